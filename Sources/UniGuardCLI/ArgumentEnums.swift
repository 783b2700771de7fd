import ArgumentParser
import Guards
import Training

// The Shared modules' enums are the option types themselves; their ArgumentParser conformances live here so
// the Shared modules never depend on ArgumentParser. `allValueStrings` lets --help and a bad value's error
// name every choice.

extension TrainingOptions.Mode: ExpressibleByArgument {}

extension GuardMetadata.InputFormat: ExpressibleByArgument {
    // Guards does not declare the enum CaseIterable, so the cases are listed here.
    public static var allValueStrings: [String] { [Self.prompt, .instruction].map(\.rawValue) }
}

extension GuardMetadata.HeadKind: ExpressibleByArgument {
    public static var allValueStrings: [String] { [Self.mean, .cls].map(\.rawValue) }
}
