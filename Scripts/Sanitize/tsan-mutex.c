// Preloaded into ThreadSanitizer runs by Scripts/sanitize.
//
// Synchronization.Mutex takes and releases its lock with atomics emitted into the caller, which
// ThreadSanitizer sees, but under contention it goes through _lockSlow/_unlockSlow in the
// uninstrumented libswiftSynchronization.so, where the kernel (a PI futex) hands the lock over.
// ThreadSanitizer sees no release and no acquire there, and reports every contended access
// guarded by a Mutex as a race. These wrappers tell it about the hand-over.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>

// ThreadSanitizer's annotations, exported by the instrumented program; absent (weak) elsewhere,
// e.g. in /bin/sh, which inherits the preload but never locks a Swift Mutex.
extern void __tsan_acquire(void *address) __attribute__((weak));
extern void __tsan_release(void *address) __attribute__((weak));

// `borrowing func _lockSlow(_ selfId: UInt32)` and `borrowing func _unlockSlow()` of
// _MutexHandle, an address-only type: `self` is its address, in the Swift self register.
typedef void (*LockSlow)(uint32_t, void *__attribute__((swift_context))) __attribute__((swiftcall));
typedef void (*UnlockSlow)(void *__attribute__((swift_context))) __attribute__((swiftcall));

#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"

__attribute__((swiftcall)) void lockSlow(uint32_t selfId, void *__attribute__((swift_context)) handle)
    __asm__(LOCK_SLOW);
__attribute__((swiftcall)) void unlockSlow(void *__attribute__((swift_context)) handle)
    __asm__(UNLOCK_SLOW);

__attribute__((swiftcall)) void lockSlow(uint32_t selfId, void *__attribute__((swift_context)) handle) {
    static LockSlow original;
    if (!original) original = (LockSlow)dlsym(RTLD_NEXT, LOCK_SLOW);
    original(selfId, handle);
    if (__tsan_acquire) __tsan_acquire(handle);
}

__attribute__((swiftcall)) void unlockSlow(void *__attribute__((swift_context)) handle) {
    static UnlockSlow original;
    if (!original) original = (UnlockSlow)dlsym(RTLD_NEXT, UNLOCK_SLOW);
    if (__tsan_release) __tsan_release(handle);
    original(handle);
}
