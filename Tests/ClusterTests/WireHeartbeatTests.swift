@testable import Cluster
import XCTest

/// Paranoid Pirate heartbeat logic with injected time.
final class WireHeartbeatTests: XCTestCase {
    let t0 = ContinuousClock.now
    let settings = HeartbeatSettings(interval: .seconds(1), liveness: 3,
                                     reconnectInitial: .seconds(1), reconnectMax: .seconds(8))

    func at(_ ms: Int) -> ContinuousClock.Instant { t0 + .milliseconds(ms) }

    func testSendsHeartbeatAfterAnIntervalOfSilence() {
        var heartbeat = Heartbeat(settings: settings, now: t0)
        heartbeat.received(at: at(0))
        XCTAssertFalse(heartbeat.tick(at: at(999)).sendHeartbeat)
        XCTAssertTrue(heartbeat.tick(at: at(1000)).sendHeartbeat)
        XCTAssertFalse(heartbeat.tick(at: at(1500)).sendHeartbeat, "just sent one")
        heartbeat.sent(at: at(1800))  // other traffic also counts
        heartbeat.received(at: at(1800))
        XCTAssertFalse(heartbeat.tick(at: at(2500)).sendHeartbeat)
        XCTAssertTrue(heartbeat.tick(at: at(2800)).sendHeartbeat)
    }

    func testLivenessCountsDownAndPeerDies() {
        var heartbeat = Heartbeat(settings: settings, now: t0)
        XCTAssertEqual(heartbeat.liveness(at: at(0)), 3)
        XCTAssertEqual(heartbeat.liveness(at: at(1000)), 2)
        XCTAssertEqual(heartbeat.liveness(at: at(2500)), 1)
        XCTAssertFalse(heartbeat.isPeerDead(at: at(2999)))
        XCTAssertNil(heartbeat.tick(at: at(2999)).peerDead)
        XCTAssertEqual(heartbeat.liveness(at: at(3000)), 0)
        XCTAssertEqual(heartbeat.tick(at: at(3000)).peerDead, .seconds(1))
    }

    func testTrafficKeepsPeerAlive() {
        var heartbeat = Heartbeat(settings: settings, now: t0)
        for second in 1...20 {
            heartbeat.received(at: at(second * 1000 - 500))
            XCTAssertNil(heartbeat.tick(at: at(second * 1000)).peerDead)
        }
    }

    func testReconnectBackoffDoublesToMaxAndResets() {
        var heartbeat = Heartbeat(settings: settings, now: t0)
        var now = 0
        var delays: [Duration] = []
        for _ in 0..<6 {
            // Find the next death by ticking every 100 ms.
            while true {
                now += 100
                if let delay = heartbeat.tick(at: at(now)).peerDead {
                    delays.append(delay)
                    break
                }
            }
        }
        XCTAssertEqual(delays, [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8), .seconds(8)])
        // After a death the peer gets a full liveness period counted from the end of the back-off.
        XCTAssertFalse(heartbeat.isPeerDead(at: at(now) + .seconds(8) + .milliseconds(2999)))

        heartbeat.received(at: at(now))
        XCTAssertEqual(heartbeat.backoff.current, .seconds(1))
        XCTAssertEqual(heartbeat.tick(at: at(now + 3000)).peerDead, .seconds(1))
    }

    func testPollTimeoutTracksNextDeadline() {
        var heartbeat = Heartbeat(settings: settings, now: t0)
        XCTAssertEqual(heartbeat.pollTimeoutMs(at: at(0)), 1000)
        XCTAssertEqual(heartbeat.pollTimeoutMs(at: at(400)), 600)
        XCTAssertEqual(heartbeat.pollTimeoutMs(at: at(5000)), 0)
        _ = heartbeat.tick(at: at(1000))
        XCTAssertEqual(heartbeat.pollTimeoutMs(at: at(1000)), 1000)
        _ = heartbeat.tick(at: at(2000))
        XCTAssertEqual(heartbeat.pollTimeoutMs(at: at(2000)), 1000, "peer expiry at 3 s is also 1 s away")
    }

    func testBackoffStandalone() {
        var backoff = ReconnectBackoff(initial: .milliseconds(250), maximum: .seconds(1))
        XCTAssertEqual((0..<5).map { _ in backoff.nextDelay() },
                       [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(1), .seconds(1)])
        backoff.reset()
        XCTAssertEqual(backoff.nextDelay(), .milliseconds(250))
        XCTAssertEqual(HeartbeatSettings(liveness: 0).liveness, 1)
        XCTAssertEqual(settings.expiry, .seconds(3))
    }
}
