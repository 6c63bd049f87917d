// RunnelStorage
