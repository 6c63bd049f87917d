"""Side-by-side benchmark of Runnel against NATS JetStream, Redis Streams and RabbitMQ streams (issue 7).

One driver per system (``runnel_driver``, ``nats_driver``, ``redis_driver``, ``rabbitmq_driver``), all with the
interface of ``common.Driver``: start a server as a child process on a free port with its own temporary data
directory, produce N records of S bytes as fast as the client allows with every record acknowledged, consume
them all back, and measure end-to-end latency at a fixed rate. ``python -m peers`` (from tools/bench) runs them
one at a time and prints the table; see ``main.py``.
"""
