// RunnelClient: a Kafka client on SwiftNIO (producer, consumer, admin).
