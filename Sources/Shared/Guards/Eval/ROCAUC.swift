/// Area under the ROC curve from scores (higher = more unsafe), ties counted half (Mann-Whitney U).
public enum ROCAUC {
    /// nil when one class is absent (AUC is undefined).
    public static func compute(scores: [Float], unsafe labels: [Bool]) -> Double? {
        precondition(scores.count == labels.count)
        let pos = labels.filter { $0 }.count, neg = labels.count - pos
        guard pos > 0, neg > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        // Average ranks over tied scores, then U = sum of positive ranks - pos(pos+1)/2.
        var rankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let avgRank = Double(i + j) / 2 + 1
            for k in i...j where labels[order[k]] { rankSum += avgRank }
            i = j + 1
        }
        return (rankSum - Double(pos) * Double(pos + 1) / 2) / (Double(pos) * Double(neg))
    }
}
