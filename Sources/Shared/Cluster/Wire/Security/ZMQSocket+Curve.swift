extension ZMQSocket {
    /// ZAP domain UniGuard's server sockets present to the ZAP handler.
    public static let defaultZAPDomain = "uniguard"

    /// Makes this socket a CURVE server (call before bind). Clients are authenticated by the context's
    /// ZAPHandler; start it first: without a handler libzmq 4.3 admits every client key.
    public func enableCurveServer(keys: CurveKeyPair, zapDomain: String = ZMQSocket.defaultZAPDomain) throws {
        try set(.curveServer(true), .curveSecretKey(keys.secretKey.bytes), .zapDomain(zapDomain))
    }

    /// Makes this socket a CURVE client of the server with `serverKey` (call before connect).
    public func enableCurveClient(keys: CurveKeyPair, serverKey: CurveKey) throws {
        try set(.curveServerKey(serverKey.bytes), .curvePublicKey(keys.publicKey.bytes),
                .curveSecretKey(keys.secretKey.bytes))
    }
}
