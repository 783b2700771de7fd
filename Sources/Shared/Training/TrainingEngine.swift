/// Training engine: how a loop drives forward, head loss, backward and AdamW (a namespace for this documentation).
///
/// One training step, on one thread (or one worker):
///
/// ```
/// let encoder = try BertEncoder(config: c, params: store)          // store = encoder specs + head specs
/// let head = try ClassificationHead.meanPoolCrossEntropy(config: c, params: store)
/// let ws = EncoderWorkspace(config: c, training: true)             // keeps every layer's activations
/// let gw = EncoderGradientWorkspace(config: c)
/// let grads = store.makeLike()                                     // same flat layout as the parameters
/// let opt = AdamW(params: store, weightDecay: 0.01)                // no decay on *.bias and *LayerNorm*
/// let schedule = LinearSchedule(peak: 2e-5, warmupSteps: 100, totalSteps: 1000)
///
/// ws.dropout = DropoutSpec(config: c, seed: RandomSource.key(runSeed, UInt64(step)), firstRow: globalRowOfBatch)
/// let hidden = try encoder.forward(batch, workspace: ws)
/// let loss = try head.forward(hidden: hidden, batch: batch, labels: labels, dropout: ws.dropout)
/// grads.fill(0)                                                    // or keep accumulating micro-batches
/// gw.prepare(for: ws)                                              // zeroes gw.dHidden
/// head.backward(batch: batch, grads: grads, dHidden: gw.dHidden.data)
/// encoder.backward(batch, workspace: ws, gradients: gw, into: grads)
/// // data-parallel: each rank scales its loss terms by its share of the global batch (rows/B; MLM: masked
/// // tokens/all ranks' masked tokens) before the backward, then `GradientReducer.sum`s `grads` (one
/// // contiguous buffer) here; `PretrainRun` and `FinetuneRun` do both (world size 1 = one process)
/// GradClip.clip(grads, maxNorm: 1)                               // or fold it into the step:
/// opt.step(grads: grads, lr: schedule.lr(step: opt.stepCount))   // step(..., gradientScale: GradClip.coefficient(...))
/// ```
///
/// Eval mode is `ws.dropout = nil` (the default). Heads: `ClassificationHead` (`.meanPoolCrossEntropy`,
/// `.meanPoolBinary`, `.sequenceClassification` = transformers' BertForSequenceClassification, which needs
/// `EncoderNames.specs(c, pooler: true)`), `MaskedLMHead` (decoder tied to the word embeddings). Initialise new
/// head tensors with `HeadNames.initialize`; save checkpoints transformers can load with
/// `store.save(to:rename: { HeadNames.transformers($0) })`. Classifier-only training: `AdamW(..., trainable:
/// { $0.hasPrefix("classifier.") })` and skip `encoder.backward`.
///
/// Virtual adversarial training.
///
/// `encoder.forward(batch, workspace:, inputPerturbation: delta)` adds `delta` [tokens, H] to the summed
/// word + position + token-type embeddings before the embedding LayerNorm (where transformers' `inputs_embeds`
/// enters). After a backward, `gw.inputGradient` holds dL/d(delta) (equivalently dL/d(input embeddings));
/// `encoder.backward(..., parameterGradients: false)` computes only that. A head's `logitGradient` can take
/// extra loss terms (e.g. λ·dKL/dlogits) before `head.backward`; `ClassificationHead.computeLogits` runs a
/// head forward without a loss. A perturbed forward overwrites the workspace: use a second `EncoderWorkspace`
/// when the clean pass's activations are still needed.
///
/// Choices.
///
/// - Dropout masks are counter-based hashes of (seed, site, layer, global row, position): a sequence gets the
///   same masks whichever worker runs it and however its batch is padded. Masks are kept as bytes.
/// - The pad id's word-embedding row gets no gradient from the lookup (as nn.Embedding's `padding_idx`); the
///   tied MLM decoder still updates it, as in transformers.
/// - Heads' losses are means over the batch they see (CE ignores label -100); the loops scale each rank's terms
///   by its share so the summed gradient is the global batch's, whatever the split (see `SynchronizedStep`).
/// - AdamW follows `torch.optim.AdamW`'s single-tensor path operation by operation (scalars in Double, rounded
///   once); tests match PyTorch's step to 1.5e-8.
/// - The first step of a warm-up schedule has learning rate 0, as transformers' `get_linear_schedule_with_warmup`.
public enum TrainingEngine {}
