import CZMQ

/// The ZeroMQ socket patterns UniGuard uses.
public enum ZMQSocketType: Sendable {
    case router, dealer, req, rep, pair, push, pull, pub, sub

    var rawValue: Int32 {
        switch self {
        case .router: ZMQ_ROUTER
        case .dealer: ZMQ_DEALER
        case .req: ZMQ_REQ
        case .rep: ZMQ_REP
        case .pair: ZMQ_PAIR
        case .push: ZMQ_PUSH
        case .pull: ZMQ_PULL
        case .pub: ZMQ_PUB
        case .sub: ZMQ_SUB
        }
    }
}
