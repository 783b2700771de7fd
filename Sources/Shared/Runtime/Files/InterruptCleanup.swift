import Dispatch
import Foundation

/// On SIGINT, SIGTERM or SIGHUP, removes the temporaries of writes in progress (`TemporaryPaths`) and then ends
/// the process as that signal would, so Ctrl-C during a save leaves the previous output intact and no litter.
/// Only for short-lived commands: the daemons handle their own signals.
public enum InterruptCleanup {
    public static func install() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            // The signal is ignored at the process level so that the dispatch source, not the default action, sees it.
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                // Waits for a publish in progress to finish its renames (see `TemporaryPaths.critical`).
                TemporaryPaths.removeAll()
                // Die of the signal itself (shells and callers see "interrupted"): dispatch threads block signals,
                // so unblock it on this one before raising it here.
                signal(sig, SIG_DFL)
                var set = sigset_t()
                sigemptyset(&set)
                sigaddset(&set, sig)
                pthread_sigmask(SIG_UNBLOCK, &set, nil)
                raise(sig)
            }
            source.resume()
            sources.withLock { $0.append(source) }
        }
    }

    /// Removes the handlers again, for a long-running command that handles SIGINT/SIGTERM itself (`uniguard serve`
    /// drains in-flight requests instead of dying at once); the signals stay ignored at the process level.
    public static func uninstall() {
        sources.withLock { list in
            for source in list { source.cancel() }
            list.removeAll()
        }
    }

    /// Keeps the sources alive for the life of the process.
    private static let sources = Guarded<[any DispatchSourceSignal]>([])
}
