import ArgumentParser
import Cluster
import CommandLineSupport
import Foundation

/// `coordinator submit JOB.yaml`: prints the new job id.
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "submit", abstract: "Submit a job (YAML); prints its id.")

    @Argument(help: "Job file, e.g. jobs/merge-search.yaml.")
    var job: String

    @OptionGroup var client: ClientOptions

    /// How long submit waits for the prepared job's id unless `--timeout-ms` is given.
    static let preparationTimeoutMs = 300_000

    func run() throws {
        guard let yaml = try? String(contentsOfFile: job, encoding: .utf8) else {
            throw ClientError(description: "\(job): cannot read the job file")
        }
        var submit = Uniguard_V1_SubmitJob()
        submit.yaml = yaml
        submit.submitter = "\(ProcessInfo.processInfo.userName)@\(ProcessInfo.processInfo.hostName)"
        submit.baseDirectory = URL(fileURLWithPath: job).standardizedFileURL.deletingLastPathComponent().path
        // The coordinator prepares a job (hashes the models, ranks the candidates on the validation set) before
        // it answers, which takes seconds; a quick status round trip first keeps "nobody is there" fast.
        _ = try client.connect().request(.statusRequest(Uniguard_V1_StatusRequest()))
        let reply = try client.connect(minimumTimeoutMs: SubmitCommand.preparationTimeoutMs).request(.submitJob(submit))
        guard case .submitReply(let r)? = reply.payload else { throw ClientError(description: "unexpected reply") }
        Console.line(r.jobID)
    }
}

/// `coordinator status [JOB] [--json] [--watch]`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Workers and jobs: progress, best F1, posteriors; a job's history.")

    @Argument(help: "A job id: show that job with its history.")
    var job: String?

    @Flag(help: "Print one JSON object with top-level `workers` and `jobs` arrays.")
    var json = false

    @Flag(help: "Refresh until interrupted (or until JOB finishes).")
    var watch = false

    @Option(help: "Refresh interval for --watch, in milliseconds.")
    var intervalMs = 1000

    @OptionGroup var client: ClientOptions

    func validate() throws {
        // Below 100 ms the refresh is clamped to 100 ms.
        try OptionCheck.milliseconds(intervalMs, "--interval-ms")
    }

    func run() throws {
        let connection = try client.connect()
        while true {
            var request = Uniguard_V1_StatusRequest()
            request.jobID = job ?? ""
            request.includeHistory = job != nil
            let reply = try connection.request(.statusRequest(request), jobID: job ?? "")
            guard case .statusReply(let status)? = reply.payload else { throw ClientError(description: "unexpected reply") }
            let text = json ? status.json : StatusFormatter.render(json: status.json)
            Console.line((watch && !json ? "\u{1B}[H\u{1B}[2J" : "") + text)
            guard watch else { return }
            if job != nil, StatusFormatter.allJobsTerminal(json: status.json) { return }
            Thread.sleep(forTimeInterval: Double(max(intervalMs, 100)) / 1000)
        }
    }
}

/// `coordinator cancel JOB`.
struct CancelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a job: no more arms are handed out.")

    @Argument(help: "Job id.")
    var job: String

    @Option(help: "Reason, recorded with the job.")
    var reason = ""

    @OptionGroup var client: ClientOptions

    func run() throws {
        var cancel = Uniguard_V1_CancelJob()
        cancel.jobID = job
        cancel.reason = reason
        let reply = try client.connect().request(.cancelJob(cancel), jobID: job)
        guard case .cancelReply(let r)? = reply.payload else { throw ClientError(description: "unexpected reply") }
        Console.line("\(r.jobID): \(r.state)")
    }
}

/// `coordinator keygen --out DIR [--name NAME]`: a CURVE key pair (NAME.key public, NAME.key_secret 0600).
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keygen", abstract: "Write a CURVE key pair.")

    @Option(help: "Directory for the key files.")
    var out: String

    @Option(help: "File name stem: NAME.key (public, share it) and NAME.key_secret (private).")
    var name = "coordinator"

    func validate() throws {
        try OptionCheck.require(!name.isEmpty && !name.contains("/"), "--name must be a file name stem, without '/' (got '\(name)')")
    }

    func run() throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let pair = try CurveKeyPair.generate()
        let publicFile = (out as NSString).appendingPathComponent(name + ".key")
        let secretFile = (out as NSString).appendingPathComponent(name + ".key_secret")
        try pair.write(publicKeyFile: publicFile, secretKeyFile: secretFile)
        print("public key:  \(publicFile)  (\(pair.publicKey.z85))")
        print("secret key:  \(secretFile)  (mode 0600; keep it private)")
    }
}
