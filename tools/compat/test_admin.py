"""Admin operations and their error codes through kafka-python's KafkaAdminClient
and confluent-kafka's AdminClient: create (partitions, configs, validate_only),
TopicAlreadyExists(36), InvalidTopic(17), UnknownTopicOrPartition(3), create
partitions, describe / alter / incremental-alter configs, delete records, describe
cluster, list and delete topics."""

from __future__ import annotations

import time
import uuid

import pytest

from runnel_clients import Rec, consume, produce, watermarks

TOPIC_ALREADY_EXISTS, INVALID_TOPIC, UNKNOWN_TOPIC_OR_PARTITION = 36, 17, 3
INVALID_NAME = "not a valid topic!"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_until(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


# ============================================================== kafka-python

@pytest.fixture
def kp_admin(broker):
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=15000)
    yield admin
    admin.close()


def kp_topic_config(admin, topic) -> dict[str, dict]:
    from kafka.admin import ConfigResource, ConfigResourceType

    described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all")
    return described["topic"][topic]


def kp_partition_count(admin, topic) -> int:
    [t] = admin.describe_topics([topic])
    assert t["error_code"] == 0, t
    return len(t["partitions"])


def test_kafka_python_create_topic_with_partitions_and_configs(kp_admin):
    topic = unique("kp-create")
    kp_admin.create_topics({topic: {"num_partitions": 3, "replication_factor": 1,
                                    "configs": {"retention.ms": "3600000", "cleanup.policy": "compact"}}})
    wait_until(lambda: topic in kp_admin.list_topics(), what="topic listed")
    assert kp_partition_count(kp_admin, topic) == 3
    configs = kp_topic_config(kp_admin, topic)
    assert configs["retention.ms"]["value"] == "3600000"
    assert configs["cleanup.policy"]["value"] == "compact"
    assert configs["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
    assert "segment.bytes" in configs, "describe of all configs should include defaults"


def test_kafka_python_create_topic_validate_only_creates_nothing(kp_admin):
    topic = unique("kp-validate")
    kp_admin.create_topics({topic: {"num_partitions": 2, "replication_factor": 1}}, validate_only=True)
    assert topic not in kp_admin.list_topics()


def test_kafka_python_create_existing_topic_is_topic_already_exists(kp_admin):
    from kafka.errors import TopicAlreadyExistsError

    topic = unique("kp-dup")
    kp_admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1}})
    with pytest.raises(TopicAlreadyExistsError) as err:
        kp_admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1}})
    assert err.value.errno == TOPIC_ALREADY_EXISTS


def test_kafka_python_create_invalid_name_is_invalid_topic(kp_admin):
    from kafka.errors import InvalidTopicError

    with pytest.raises(InvalidTopicError) as err:
        kp_admin.create_topics({INVALID_NAME: {"num_partitions": 1, "replication_factor": 1}})
    assert err.value.errno == INVALID_TOPIC


def test_kafka_python_delete_unknown_topic_is_unknown_topic_or_partition(kp_admin):
    from kafka.errors import UnknownTopicOrPartitionError

    with pytest.raises(UnknownTopicOrPartitionError) as err:
        kp_admin.delete_topics([unique("kp-never-created")])
    assert err.value.errno == UNKNOWN_TOPIC_OR_PARTITION


def test_kafka_python_delete_topic(kp_admin):
    topic = unique("kp-delete")
    kp_admin.create_topics({topic: {"num_partitions": 2, "replication_factor": 1}})
    wait_until(lambda: topic in kp_admin.list_topics(), what="topic listed")
    kp_admin.delete_topics([topic])
    wait_until(lambda: topic not in kp_admin.list_topics(), what="topic gone")


def test_kafka_python_create_partitions(kp_admin, broker):
    topic = unique("kp-parts")
    kp_admin.create_topics({topic: {"num_partitions": 2, "replication_factor": 1}})
    kp_admin.create_partitions({topic: 4})
    wait_until(lambda: kp_partition_count(kp_admin, topic) == 4, what="4 partitions")
    assert produce("kafka-python", broker.bootstrap, topic, [Rec(b"new", b"p3", (), 3)]) == [(3, 0)]


def test_kafka_python_alter_configs_and_incremental_alter_configs(kp_admin):
    from kafka.admin import AlterConfigOp, ConfigResource, ConfigResourceType

    topic = unique("kp-configs")
    kp_admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1,
                                    "configs": {"cleanup.policy": "compact"}}})
    result = kp_admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, {"retention.ms": "7200000"})],
                                    incremental=False)
    assert result == {"topic": {topic: "OK"}}
    configs = kp_topic_config(kp_admin, topic)
    assert configs["retention.ms"]["value"] == "7200000"
    # kafka-python re-sends the other modified keys with a legacy AlterConfigs.
    assert configs["cleanup.policy"]["value"] == "compact"

    result = kp_admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                    {"retention.ms": (AlterConfigOp.SET, "1800000")})],
                                    incremental=True)
    assert result == {"topic": {topic: "OK"}}
    assert kp_topic_config(kp_admin, topic)["retention.ms"]["value"] == "1800000"

    result = kp_admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                    {"retention.ms": (AlterConfigOp.DELETE, None)})],
                                    incremental=True)
    assert result == {"topic": {topic: "OK"}}
    configs = kp_topic_config(kp_admin, topic)
    assert configs["retention.ms"]["value"] == "604800000", "DELETE restores Kafka's default (7 days)"
    assert configs["retention.ms"]["config_source"] != "DYNAMIC_TOPIC_CONFIG"
    assert configs["cleanup.policy"]["value"] == "compact"


def test_kafka_python_alter_configs_validate_only_changes_nothing(kp_admin):
    from kafka.admin import AlterConfigOp, ConfigResource, ConfigResourceType

    topic = unique("kp-cfg-validate")
    kp_admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1}})
    result = kp_admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                    {"retention.ms": (AlterConfigOp.SET, "1234567")})],
                                    validate_only=True, incremental=True)
    assert result == {"topic": {topic: "OK"}}
    assert kp_topic_config(kp_admin, topic)["retention.ms"]["value"] == "604800000"


def test_kafka_python_delete_records_moves_low_watermark(kp_admin, broker):
    from kafka import TopicPartition
    from kafka.admin import OffsetSpec

    topic = unique("kp-delrec")
    kp_admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1}})
    produce("kafka-python", broker.bootstrap, topic, [Rec(f"v{i}".encode(), None) for i in range(10)])
    tp = TopicPartition(topic, 0)
    result = kp_admin.delete_records({tp: 4})
    assert result[tp]["low_watermark"] == 4 and result[tp]["error_code"] == 0, result
    assert kp_admin.list_partition_offsets({tp: OffsetSpec.EARLIEST})[tp].offset == 4
    assert watermarks(broker.bootstrap, topic, 0) == (4, 10)
    got = consume("kafka-python", broker.bootstrap, topic, [0], expected=6, start=4)
    assert [(g.offset, g.value) for g in got] == [(i, f"v{i}".encode()) for i in range(4, 10)]


def test_kafka_python_describe_cluster_and_list_topics(kp_admin, broker):
    cluster = kp_admin.describe_cluster()
    assert cluster["cluster_id"], cluster
    [node] = cluster["brokers"]
    assert (node["host"], node["port"]) == (broker.host, broker.port), cluster
    assert cluster["controller_id"] == node["broker_id"], cluster
    topic = unique("kp-list")
    kp_admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1}})
    wait_until(lambda: topic in kp_admin.list_topics(), what="topic listed")


# ============================================================== confluent-kafka

@pytest.fixture
def ck_admin(broker):
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": broker.bootstrap})


def ck_create(admin, topic, partitions=1, config=None, validate_only=False):
    from confluent_kafka.admin import NewTopic

    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1,
                                            config=config or {})],
                                  validate_only=validate_only, request_timeout=15)
    return futures[topic].result(20)


def ck_error_code(excinfo) -> int:
    return excinfo.value.args[0].code()


def ck_configs(admin, topic):
    from confluent_kafka.admin import ConfigResource, ResourceType

    resource = ConfigResource(ResourceType.TOPIC, topic)
    return admin.describe_configs([resource], request_timeout=15)[resource].result(20)


def ck_partition_count(admin, topic) -> int:
    md = admin.list_topics(topic, timeout=10).topics[topic]
    assert md.error is None, md.error
    return len(md.partitions)


def test_confluent_create_topic_with_partitions_and_configs(ck_admin):
    topic = unique("ck-create")
    ck_create(ck_admin, topic, 3, {"retention.ms": "3600000", "cleanup.policy": "compact"})
    wait_until(lambda: topic in ck_admin.list_topics(timeout=10).topics, what="topic listed")
    assert ck_partition_count(ck_admin, topic) == 3
    configs = ck_configs(ck_admin, topic)
    assert configs["retention.ms"].value == "3600000"
    assert configs["cleanup.policy"].value == "compact"
    assert not configs["retention.ms"].is_default
    assert configs["segment.bytes"].is_default


def test_confluent_describe_topics(ck_admin):
    from confluent_kafka import TopicCollection

    topic = unique("ck-describe")
    ck_create(ck_admin, topic, 2)
    description = ck_admin.describe_topics(TopicCollection([topic]), request_timeout=15)[topic].result(20)
    assert description.name == topic
    assert [p.id for p in description.partitions] == [0, 1]
    assert all(p.leader is not None and p.leader.id >= 0 for p in description.partitions)


def test_confluent_create_topic_validate_only_creates_nothing(ck_admin):
    topic = unique("ck-validate")
    ck_create(ck_admin, topic, 2, validate_only=True)
    assert topic not in ck_admin.list_topics(timeout=10).topics


def test_confluent_create_existing_topic_is_topic_already_exists(ck_admin):
    from confluent_kafka import KafkaError, KafkaException

    topic = unique("ck-dup")
    ck_create(ck_admin, topic)
    with pytest.raises(KafkaException) as err:
        ck_create(ck_admin, topic)
    assert ck_error_code(err) == KafkaError.TOPIC_ALREADY_EXISTS == TOPIC_ALREADY_EXISTS


def test_confluent_create_invalid_name_is_invalid_topic(ck_admin):
    from confluent_kafka import KafkaError, KafkaException

    with pytest.raises(KafkaException) as err:
        ck_create(ck_admin, INVALID_NAME)
    assert ck_error_code(err) == KafkaError.TOPIC_EXCEPTION == INVALID_TOPIC


def test_confluent_delete_unknown_topic_is_unknown_topic_or_partition(ck_admin):
    from confluent_kafka import KafkaError, KafkaException

    name = unique("ck-never-created")
    with pytest.raises(KafkaException) as err:
        ck_admin.delete_topics([name], request_timeout=15)[name].result(20)
    assert ck_error_code(err) == KafkaError.UNKNOWN_TOPIC_OR_PART == UNKNOWN_TOPIC_OR_PARTITION


def test_confluent_delete_topic(ck_admin):
    topic = unique("ck-delete")
    ck_create(ck_admin, topic, 2)
    ck_admin.delete_topics([topic], request_timeout=15)[topic].result(20)
    wait_until(lambda: topic not in ck_admin.list_topics(timeout=10).topics, what="topic gone")


def test_confluent_create_partitions(ck_admin, broker):
    from confluent_kafka.admin import NewPartitions

    topic = unique("ck-parts")
    ck_create(ck_admin, topic, 2)
    ck_admin.create_partitions([NewPartitions(topic, 4)], request_timeout=15)[topic].result(20)
    wait_until(lambda: ck_partition_count(ck_admin, topic) == 4, what="4 partitions")
    assert produce("confluent", broker.bootstrap, topic, [Rec(b"new", b"p3", (), 3)]) == [(3, 0)]


def test_confluent_create_partitions_cannot_shrink(ck_admin):
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import NewPartitions

    topic = unique("ck-shrink")
    ck_create(ck_admin, topic, 3)
    with pytest.raises(KafkaException) as err:
        ck_admin.create_partitions([NewPartitions(topic, 2)], request_timeout=15)[topic].result(20)
    assert ck_error_code(err) == KafkaError.INVALID_PARTITIONS  # 37


def test_confluent_legacy_alter_configs_replaces_the_whole_set(ck_admin):
    from confluent_kafka.admin import ConfigResource, ResourceType

    topic = unique("ck-alter")
    ck_create(ck_admin, topic, 1, {"cleanup.policy": "compact"})
    resource = ConfigResource(ResourceType.TOPIC, topic, set_config={"retention.ms": "7200000"})
    ck_admin.alter_configs([resource], request_timeout=15)[resource].result(20)
    configs = ck_configs(ck_admin, topic)
    assert configs["retention.ms"].value == "7200000"
    # Kafka's (non-incremental) AlterConfigs resets every key it is not given.
    assert configs["cleanup.policy"].value == "delete"


def test_confluent_incremental_alter_configs(ck_admin):
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

    topic = unique("ck-incr")
    ck_create(ck_admin, topic, 1, {"cleanup.policy": "compact"})

    def alter(*entries):
        resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=list(entries))
        ck_admin.incremental_alter_configs([resource], request_timeout=15)[resource].result(20)

    alter(ConfigEntry("retention.ms", "1800000", incremental_operation=AlterConfigOpType.SET))
    configs = ck_configs(ck_admin, topic)
    assert configs["retention.ms"].value == "1800000"
    assert configs["cleanup.policy"].value == "compact", "incremental alter must keep other keys"

    alter(ConfigEntry("cleanup.policy", "delete", incremental_operation=AlterConfigOpType.APPEND))
    assert set(ck_configs(ck_admin, topic)["cleanup.policy"].value.split(",")) == {"compact", "delete"}

    alter(ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE))
    configs = ck_configs(ck_admin, topic)
    assert configs["retention.ms"].value == "604800000" and configs["retention.ms"].is_default


def test_confluent_alter_unknown_topic_config_key_is_rejected(ck_admin):
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

    topic = unique("ck-badkey")
    ck_create(ck_admin, topic, 1)
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry("no.such.config", "1", incremental_operation=AlterConfigOpType.SET)])
    with pytest.raises(KafkaException) as err:
        ck_admin.incremental_alter_configs([resource], request_timeout=15)[resource].result(20)
    assert ck_error_code(err) == KafkaError.INVALID_CONFIG  # 40


def test_confluent_delete_records_moves_low_watermark(ck_admin, broker):
    from confluent_kafka import TopicPartition

    topic = unique("ck-delrec")
    ck_create(ck_admin, topic, 1)
    produce("confluent", broker.bootstrap, topic, [Rec(f"v{i}".encode(), None) for i in range(10)])
    [result] = ck_admin.delete_records([TopicPartition(topic, 0, 4)], request_timeout=15).values()
    assert result.result(20).low_watermark == 4
    assert watermarks(broker.bootstrap, topic, 0) == (4, 10)
    got = consume("confluent", broker.bootstrap, topic, [0], expected=6, start=4)
    assert [(g.offset, g.value) for g in got] == [(i, f"v{i}".encode()) for i in range(4, 10)]


def test_confluent_describe_cluster_and_list_topics(ck_admin, broker):
    cluster = ck_admin.describe_cluster(request_timeout=15).result(20)
    assert cluster.cluster_id
    [node] = cluster.nodes
    assert (node.host, node.port) == (broker.host, broker.port)
    assert cluster.controller is not None and cluster.controller.id == node.id
    topic = unique("ck-list")
    ck_create(ck_admin, topic, 1)
    metadata = ck_admin.list_topics(timeout=10)
    assert topic in metadata.topics
    assert metadata.cluster_id == cluster.cluster_id
    assert [b.port for b in metadata.brokers.values()] == [broker.port]


# ============================================================== more error codes (confluent)

INVALID_REPLICATION_FACTOR, INVALID_CONFIG, OFFSET_OUT_OF_RANGE = 38, 40, 1


@pytest.mark.parametrize("name", [".", "..", "x" * 250, "has/slash"])
def test_confluent_illegal_topic_names_are_invalid_topic(ck_admin, name):
    from confluent_kafka import KafkaException

    with pytest.raises(KafkaException) as err:
        ck_create(ck_admin, name)
    assert ck_error_code(err) == INVALID_TOPIC


def test_confluent_replication_factor_above_broker_count_is_invalid_replication_factor(ck_admin):
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import NewTopic

    topic = unique("ck-rf3")
    futures = ck_admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=3)], request_timeout=15)
    with pytest.raises(KafkaException) as err:
        futures[topic].result(20)
    assert ck_error_code(err) == INVALID_REPLICATION_FACTOR
    assert topic not in ck_admin.list_topics(timeout=10).topics


def test_confluent_invalid_config_value_is_invalid_config(ck_admin):
    from confluent_kafka import KafkaException

    topic = unique("ck-badcfg")
    with pytest.raises(KafkaException) as err:
        ck_create(ck_admin, topic, 1, {"retention.ms": "not-a-number"})
    assert ck_error_code(err) == INVALID_CONFIG
    assert topic not in ck_admin.list_topics(timeout=10).topics


def test_confluent_create_partitions_of_unknown_topic_is_unknown_topic(ck_admin):
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import NewPartitions

    name = unique("ck-no-topic")
    with pytest.raises(KafkaException) as err:
        ck_admin.create_partitions([NewPartitions(name, 3)], request_timeout=15)[name].result(20)
    assert ck_error_code(err) == UNKNOWN_TOPIC_OR_PARTITION


def test_confluent_describe_configs_of_unknown_topic_is_unknown_topic(ck_admin):
    from confluent_kafka import KafkaException

    with pytest.raises(KafkaException) as err:
        ck_configs(ck_admin, unique("ck-no-topic"))
    assert ck_error_code(err) == UNKNOWN_TOPIC_OR_PARTITION


def test_confluent_delete_records_to_high_watermark_and_beyond(ck_admin, broker):
    from confluent_kafka import KafkaException, TopicPartition

    topic = unique("ck-delall")
    ck_create(ck_admin, topic, 1)
    produce("confluent", broker.bootstrap, topic, [Rec(f"v{i}".encode(), None) for i in range(5)])
    [fut] = ck_admin.delete_records([TopicPartition(topic, 0, 99)], request_timeout=15).values()
    with pytest.raises(KafkaException) as err:
        fut.result(20)
    assert ck_error_code(err) == OFFSET_OUT_OF_RANGE
    # -1 means "up to the high watermark".
    [fut] = ck_admin.delete_records([TopicPartition(topic, 0, -1)], request_timeout=15).values()
    assert fut.result(20).low_watermark == 5
    assert watermarks(broker.bootstrap, topic, 0) == (5, 5)
    assert produce("confluent", broker.bootstrap, topic, [Rec(b"after", None)]) == [(0, 5)]


def test_confluent_describe_broker_configs(ck_admin):
    from confluent_kafka.admin import ConfigResource, ResourceType

    node_id = ck_admin.describe_cluster(request_timeout=15).result(20).nodes[0].id
    resource = ConfigResource(ResourceType.BROKER, str(node_id))
    configs = ck_admin.describe_configs([resource], request_timeout=15)[resource].result(20)
    assert configs["message.max.bytes"].value == "1048588"
    assert "num.partitions" in configs and "log.dirs" in configs


def test_kafka_python_describe_broker_configs(kp_admin):
    from kafka.admin import ConfigResource, ConfigResourceType

    node_id = kp_admin.describe_cluster()["brokers"][0]["broker_id"]
    described = kp_admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, str(node_id))],
                                          config_filter="all")
    configs = described["broker"][str(node_id)]
    assert configs["message.max.bytes"]["value"] == "1048588"


def test_kafka_python_describe_log_dirs_reports_partition_sizes(kp_admin, broker):
    topic = unique("kp-logdirs")
    kp_admin.create_topics({topic: {"num_partitions": 2, "replication_factor": 1}})
    wait_until(lambda: topic in kp_admin.list_topics(), what="topic listed")
    produce("kafka-python", broker.bootstrap, topic, [Rec(b"x" * 100, partition=1) for _ in range(10)])
    [entry] = kp_admin.describe_log_dirs({topic: [0, 1]})
    [log_dir] = entry["log_dirs"]
    assert log_dir["error_code"] == 0 and log_dir["log_dir"] == str(broker.data_dir.resolve()), log_dir
    sizes = {p["partition_index"]: p["partition_size"] for t in log_dir["topics"] if t["name"] == topic
             for p in t["partitions"]}
    on_disk = {p: sum(f.stat().st_size for f in (broker.data_dir / f"{topic}-{p}").glob("*.log")) for p in (0, 1)}
    assert sizes == on_disk and sizes[0] == 0 and sizes[1] > 1000, (sizes, on_disk)
    assert log_dir.get("total_bytes", 1) > 0 and log_dir.get("usable_bytes", 1) > 0, log_dir
    # Everything (topics null) includes the topic; an unknown topic is left out, as Kafka does.
    [everything] = kp_admin.describe_log_dirs()
    assert topic in {t["name"] for d in everything["log_dirs"] for t in d["topics"]}
