"""A real single-node KRaft Kafka broker for the service tests (jars from the chaosext cache)."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from support import free_port, wait_until

from chaosext.common import procs

LOG4J2 = """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka.server.KafkaServer
logger.kafka.level = INFO
"""


def kafka_lib(cache: Path) -> Path | None:
    libs = sorted(p for p in (cache / "kafka").glob("*/lib") if any(p.glob("kafka_2.13-*.jar")))
    return libs[-1] if libs else None


class KafkaBroker:
    def __init__(self, scratch: Path, lib: Path) -> None:
        self.dir = scratch / "kafka"
        self.dir.mkdir()
        self.port, cport = free_port(), free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        props = self.dir / "server.properties"
        props.write_text("\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{cport}",
            f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{cport}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={self.dir / 'data'}",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=3",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
            "",
        ]))
        log4j = self.dir / "log4j2.properties"
        log4j.write_text(LOG4J2)
        java = ["java", "-Xmx384m", "-XX:TieredStopAtLevel=1", f"-Dlog4j2.configurationFile={log4j}",
                "-cp", f"{lib}/*"]
        subprocess.run([*java, "kafka.tools.StorageTool", "format", "-t", str(uuid.uuid4()).replace("-", "")[:22],
                        "-c", str(props)], check=True, capture_output=True, timeout=120)
        self.log = open(self.dir / "kafka.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen([*java, "kafka.Kafka", str(props)], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_until("the Kafka broker", self._up, timeout=90, interval=0.5)

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"kafka exited {self.proc.returncode}: {(self.dir / 'kafka.log').read_text()}")
        return asyncio.run(self._describe())

    async def _describe(self) -> bool:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.list_topics()
            return True
        finally:
            await admin.close()

    def create_topics(self, *names: str, partitions: int = 3) -> None:
        async def create() -> None:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
            await admin.start()
            try:
                await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
            finally:
                await admin.close()

        asyncio.run(create())

    def stop(self) -> None:
        procs.end(self.proc, grace_s=30)
        self.log.close()
