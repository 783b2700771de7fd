/// Tasks one worker runs at once (`worker --slots`, `coordinator serve --local-worker-slots`): each slot is a
/// thread with its own model copy, so more than this is a typo.
public enum WorkerSlots {
    public static let allowed = 1...256
}
