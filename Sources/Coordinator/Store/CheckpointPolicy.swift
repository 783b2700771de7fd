/// When the coordinator copies its WAL into the database file between clean shutdowns: after this many commits
/// or this long after the last checkpoint with anything committed since, whichever comes first. Bounds what a
/// lost or damaged WAL can take with it.
struct CheckpointPolicy: Sendable {
    var everyCommits = 1000
    var interval: Duration = .seconds(300)

    func isDue(commits: Int, since elapsed: Duration) -> Bool {
        commits >= everyCommits || (commits > 0 && elapsed >= interval)
    }
}
