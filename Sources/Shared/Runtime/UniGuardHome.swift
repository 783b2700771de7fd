import Foundation

/// Where UniGuard keeps downloads and models: $UNIGUARD_HOME, default ~/.cache/uniguard.
public enum UniGuardHome {
    public static var url: URL {
        if let h = ProcessInfo.processInfo.environment["UNIGUARD_HOME"], !h.isEmpty { return URL(fileURLWithPath: h) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/uniguard")
    }

    /// The base model all-MiniLM-L6-v2, unpacked from its PyPI package by `scripts/fetch-base-model.sh`.
    public static var baseModel: URL { url.appendingPathComponent("models/all-MiniLM-L6-v2") }

    /// The base model directory, or an error telling the user how to fetch it.
    public static func requireBaseModel() throws -> URL {
        let u = baseModel
        guard FileManager.default.fileExists(atPath: u.appendingPathComponent("model.safetensors").path) else {
            throw ModelError.missingFile(path: u.path, hint: "the base model is not cached; run `make model` (or scripts/fetch-base-model.sh), or pass --model DIR")
        }
        return u
    }
}
