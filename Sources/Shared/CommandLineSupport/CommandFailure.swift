/// A command that cannot finish, said so the user can fix it; reported as `<prefix>: <message>`, exit 1.
/// (Not ArgumentParser's `ValidationError`: that one means the command line itself is wrong.)
public struct CommandFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
