import Worker

/// The `worker` executable: everything lives in the Worker library.
@main
enum WorkerMain {
    static func main() { WorkerCommand.main() }
}
