import Dispatch
import Foundation
import Runtime

/// Turns SIGINT/SIGTERM into a stop flag a daemon's event loop checks each poll (an orderly shutdown
/// instead of dying mid-write).
///
/// Kept hand-written rather than swift-service-lifecycle: both daemons are blocking ZeroMQ poll loops on their own
/// threads, and a ServiceGroup runs async services on the cooperative pool, which a blocking poll would starve.
public final class SignalTrap {
    private var sources: [DispatchSourceSignal] = []

    public init(stop: Guarded<Bool>) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stop.value = true }
            source.resume()
            sources.append(source)
        }
    }
}
