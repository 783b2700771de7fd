import Coordinator

/// The `coordinator` executable: everything lives in the Coordinator library.
@main
enum CoordinatorMain {
    static func main() { CoordinatorCommand.main() }
}
