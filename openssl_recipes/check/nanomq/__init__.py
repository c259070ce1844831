"""A real NanoMQ on 127.0.0.1: started, watched and stopped (`broker`), and tried with the recipe's
certificates and the blocks `conf nanomq` renders (`handshake`)."""
