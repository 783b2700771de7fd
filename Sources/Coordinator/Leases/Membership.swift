import Cluster
import Foundation

/// A registered worker as the coordinator sees it.
public struct WorkerMember: Sendable {
    public let id: String
    /// ZeroMQ routing id of its connection (messages to it go there).
    public var routingID: Data
    public var hostname: String
    public var slots: Int
    public var softwareVersion: String
    public var blasCore: String
    /// Liveness both ways (Paranoid Pirate), on the monotonic clock.
    public var heartbeat: Heartbeat
    public var load: Float = 0
    /// Task ids the worker said it holds in its last heartbeat or registration.
    public var reportedTasks: [String] = []
    public var lastHeardUnixMs: UInt64
    public var joinedUnixMs: UInt64
    public var cachedBlobs: Set<String> = []

    public init(id: String, routingID: Data, hostname: String, slots: Int, softwareVersion: String = "",
                blasCore: String = "", heartbeat: Heartbeat, nowUnixMs: UInt64) {
        self.id = id
        self.routingID = routingID
        self.hostname = hostname
        self.slots = slots
        self.softwareVersion = softwareVersion
        self.blasCore = blasCore
        self.heartbeat = heartbeat
        self.lastHeardUnixMs = nowUnixMs
        self.joinedUnixMs = nowUnixMs
    }
}

/// Cluster membership as pure bookkeeping: join, traffic, heartbeat due dates, liveness expiry, leave.
public struct Membership: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public let settings: HeartbeatSettings
    public private(set) var members: [String: WorkerMember] = [:]

    public init(settings: HeartbeatSettings) { self.settings = settings }

    /// Adds a worker or refreshes one that registers again (reconnect); returns true when it was new.
    @discardableResult
    public mutating func join(_ member: WorkerMember) -> Bool {
        let isNew = members[member.id] == nil
        var m = member
        if let old = members[member.id] { m.joinedUnixMs = old.joinedUnixMs }
        members[member.id] = m
        return isNew
    }

    public func member(_ id: String) -> WorkerMember? { members[id] }

    /// The member whose connection has this routing id.
    public func member(routingID: Data) -> WorkerMember? {
        members.values.first { $0.routingID == routingID }
    }

    /// Any message from the worker proves it alive.
    public mutating func heard(_ id: String, at now: Instant, unixMs: UInt64) {
        members[id]?.heartbeat.received(at: now)
        members[id]?.lastHeardUnixMs = unixMs
    }

    /// Any message to the worker postpones our next heartbeat to it.
    public mutating func sent(_ id: String, at now: Instant) {
        members[id]?.heartbeat.sent(at: now)
    }

    /// Updates what a heartbeat reports.
    public mutating func report(_ id: String, load: Float, tasks: [String]) {
        members[id]?.load = load
        members[id]?.reportedTasks = tasks
    }

    /// Workers owed a heartbeat now, and workers silent for `liveness` intervals (removed from membership).
    public mutating func tick(at now: Instant) -> (heartbeatDue: [String], dead: [WorkerMember]) {
        var due: [String] = []
        var dead: [WorkerMember] = []
        for id in members.keys.sorted() {
            guard var m = members[id] else { continue }
            if m.heartbeat.isPeerDead(at: now) {
                dead.append(m)
                members[id] = nil
                continue
            }
            if m.heartbeat.tick(at: now).sendHeartbeat { due.append(id) }
            members[id] = m
        }
        return (due, dead)
    }

    /// Removes a worker (orderly goodbye); returns it if it was a member.
    @discardableResult
    public mutating func leave(_ id: String) -> WorkerMember? {
        members.removeValue(forKey: id)
    }

    /// Earliest time something is due for any member, for the poll timeout.
    public func nextDeadline() -> Instant? {
        members.values.map { $0.heartbeat.nextDeadline() }.min()
    }
}
