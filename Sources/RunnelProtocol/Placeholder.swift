// RunnelProtocol
