"""Pure decoding of link, network and transport layers: frames in, payloads out.

Nothing here does IO. :class:`~sipladder.net.decoder.PacketDecoder` is the entry point.
"""
