import Cluster
import Foundation
import Runtime

/// A fixed number of slot threads running tasks; results come back through a queue and a wake-up pipe, so the
/// socket stays on the event loop's thread.
final class SlotPool: Sendable {
    typealias Work = @Sendable (Uniguard_V1_TaskAssignment, _ jobID: String) -> Uniguard_V1_TaskResult

    private let inbox = Guarded<[(assignment: Uniguard_V1_TaskAssignment, jobID: String)]>([])
    private let available = DispatchSemaphore(value: 0)
    private let outbox = Guarded<[Uniguard_V1_TaskResult]>([])
    private let busy = Guarded(0)
    let slots: Int

    init(slots: Int, wake: WakePipe, work: @escaping Work) {
        self.slots = slots
        for index in 0..<slots {
            let thread = Thread { [inbox, available, outbox, busy] in
                while true {
                    available.wait()
                    guard let task = inbox.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
                    busy.withLock { $0 += 1 }
                    let result = work(task.assignment, task.jobID)
                    busy.withLock { $0 -= 1 }
                    outbox.withLock { $0.append(result) }
                    wake.wake()
                }
            }
            thread.name = "uniguard-slot-\(index)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    func submit(_ task: Uniguard_V1_TaskAssignment, jobID: String) {
        inbox.withLock { $0.append((task, jobID)) }
        available.signal()
    }

    /// Results finished since the last call.
    func takeResults() -> [Uniguard_V1_TaskResult] {
        outbox.withLock { list in
            defer { list = [] }
            return list
        }
    }

    var running: Int { busy.value }
}
