export { createFakePve } from './fake-pve';
export type {
  FakeCloneInfo,
  FakeFaults,
  FakeGuest,
  FakeGuestView,
  FakePve,
  FakePveOptions,
  FakeRawResponse,
  FakeRecorder,
  FakeRequestRecord,
  FakeStorage,
  FakeTaskRecord,
} from './types';
