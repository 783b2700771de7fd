import ArgumentParser

/// Checks of option values for `validate()`. A failure is a `ValidationError`, which ArgumentParser prints with
/// the usage and exit code 64; an option that was not given (nil) passes.
public enum OptionCheck {
    /// The check every other one is made of.
    public static func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        guard condition else { throw ValidationError(message()) }
    }

    public static func atLeast<T: Comparable>(_ minimum: T, _ value: T?, _ name: String) throws {
        guard let value else { return }
        try require(value >= minimum, "\(name) must be at least \(minimum) (got \(value))")
    }

    /// NaN is never within a range.
    public static func within<T: Comparable>(_ range: ClosedRange<T>, _ value: T?, _ name: String) throws {
        guard let value else { return }
        try require(range.contains(value), "\(name) must be in \(range.lowerBound)...\(range.upperBound) (got \(value))")
    }

    /// Durations longer than a day are typos (and libzmq takes int milliseconds).
    public static let longestMilliseconds = 86_400_000

    /// A duration in milliseconds from `minimum` up to a day.
    public static func milliseconds(_ value: Int?, _ name: String, minimum: Int = 1) throws {
        try within(minimum...max(minimum, longestMilliseconds), value, name)
    }

    /// A number above zero that stays finite in single precision, where the kernels use it: learning rates,
    /// perturbation sizes.
    public static func positive(_ value: Double?, _ name: String) throws {
        guard let value else { return }
        try require(value > 0 && Float(value).isFinite, "\(name) must be a positive number below 3.4e38 (got \(value))")
    }

    /// A number, zero or more, finite in single precision: loss weights.
    public static func nonNegative(_ value: Double?, _ name: String) throws {
        guard let value else { return }
        try require(value >= 0 && Float(value).isFinite, "\(name) must be a number from 0 below 3.4e38 (got \(value))")
    }
}
