import EncoderModel
import Runtime

/// Finds weights that are NaN or infinite (a diverged training run): such a model scores NaN for everything.
enum WeightCheck {
    /// `what` names the model in the message (its path, or what was being done with it).
    static func requireFinite(_ params: ParameterStore, _ what: String) throws {
        for slot in params.slots {
            let values = UnsafeBufferPointer(start: params.values.data + slot.offset, count: slot.count)
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw ModelError.incompatible("\(what): tensor '\(slot.name)' holds \(values[i]) at index \(i); the weights are broken (a diverged training run?): retrain, e.g. with a lower --lr")
            }
        }
    }
}
