/// Version string shown by every executable, with the BLAS kernel in use.
public enum UniGuardVersion {
    public static let number = "0.1.0"
    public static var description: String { "uniguard \(number) · \(BLASRuntime.summary)" }
}
