/** Test kit: signed/encrypted fake requests, reply readers and samples of every message type. */
export { signedRequest, verificationRequest, readReply } from './signed-request.js'
export type { SignedRequest, SignedRequestOptions, ReadReply, ReadReplyOptions, EncryptionMode } from './signed-request.js'
export { sampleXml, SAMPLE_KINDS, SAMPLE_BODIES, nextMsgId } from './samples.js'
export type { SampleKind, SampleOptions } from './samples.js'
export { simulate, verifyUrl, buildSimulatedMessage, describeReply, ERROR_BANNER, SIMULATED_KINDS, WECHAT_ATTEMPTS, WECHAT_TIMEOUT_MS } from './simulator.js'
export type { SimulateOptions, SimulateResult, SimulatedAttempt, AttemptOutcome, VerifyUrlOptions, VerifyUrlResult, SimulatedMessage, SimulatedMessageOptions } from './simulator.js'
export { startFakeWechat, FAKE_APP_ID, FAKE_APP_SECRET } from './fake-wechat/index.js'
export type { FakeWechat, FakeWechatOptions, FakeFault, FakeCall, FakeSent } from './fake-wechat/index.js'
