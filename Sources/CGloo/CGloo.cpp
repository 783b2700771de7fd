// The C API of CGloo.h over Gloo's C++ classes. Every entry point catches what Gloo throws and turns it into
// a code and a message; nothing propagates into Swift.
#include "CGloo.h"

#include <gloo/allreduce.h>
#include <gloo/common/error.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/file_store.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/rendezvous/store.h>
#include <gloo/transport/tcp/device.h>

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct cgloo_bytes {
    std::vector<char> data;
};

struct cgloo_store {
    std::shared_ptr<gloo::rendezvous::Store> store;
    std::shared_ptr<cgloo_store> base;  // a prefixed store keeps its base alive
};

struct cgloo_device {
    std::shared_ptr<gloo::transport::Device> device;
};

struct cgloo_context {
    std::shared_ptr<gloo::rendezvous::Context> context;
};

namespace {

/// A store callback timed out: rendezvous reports it as CGLOO_RENDEZVOUS_TIMEOUT.
struct StoreTimeout : gloo::IoException {
    explicit StoreTimeout(const std::string &message) : gloo::IoException(message) {}
};

/// A store callback failed: reported as CGLOO_STORE_FAILED.
struct StoreFailure : gloo::Exception {
    explicit StoreFailure(const std::string &message) : gloo::Exception(message) {}
};

void setError(cgloo_error *error, int32_t code, const std::string &message) {
    if (error == nullptr) return;
    error->code = code;
    size_t count = std::min(message.size(), sizeof(error->message) - 1);
    std::memcpy(error->message, message.data(), count);
    error->message[count] = '\0';
}

void clearError(cgloo_error *error) { setError(error, CGLOO_OK, ""); }

bool mentionsTimeout(const std::string &message) {
    std::string lower(message);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return lower.find("timeout") != std::string::npos || lower.find("timed out") != std::string::npos;
}

std::string callbackMessage(const cgloo_bytes &message, const char *fallback) {
    if (message.data.empty()) return fallback;
    return std::string(message.data.begin(), message.data.end());
}

/// gloo::rendezvous::Store over caller-supplied C callbacks.
class CallbackStore final : public gloo::rendezvous::Store {
public:
    explicit CallbackStore(cgloo_store_callbacks callbacks) : callbacks_(callbacks) {}
    ~CallbackStore() override {
        if (callbacks_.release != nullptr) callbacks_.release(callbacks_.user);
    }

    void set(const std::string &key, const std::vector<char> &data) override {
        cgloo_bytes message;
        int32_t result = callbacks_.set(callbacks_.user, key.c_str(), data.data(), data.size(), &message);
        check(result, message, "set", key);
    }

    std::vector<char> get(const std::string &key) override {
        cgloo_bytes value, message;
        int32_t result = callbacks_.get(callbacks_.user, key.c_str(), milliseconds(kDefaultTimeout), &value, &message);
        check(result, message, "get", key);
        return std::move(value.data);
    }

    void wait(const std::vector<std::string> &keys) override { wait(keys, kDefaultTimeout); }

    void wait(const std::vector<std::string> &keys, const std::chrono::milliseconds &timeout) override {
        std::vector<const char *> pointers;
        pointers.reserve(keys.size());
        for (const auto &key : keys) pointers.push_back(key.c_str());
        cgloo_bytes message;
        int32_t result = callbacks_.wait(callbacks_.user, pointers.data(), pointers.size(), milliseconds(timeout), &message);
        std::string joined;
        for (const auto &key : keys) joined += (joined.empty() ? "" : ", ") + key;
        check(result, message, "wait", joined);
    }

private:
    static int64_t milliseconds(std::chrono::milliseconds timeout) { return static_cast<int64_t>(timeout.count()); }

    static void check(int32_t result, const cgloo_bytes &message, const char *operation, const std::string &key) {
        if (result == CGLOO_STORE_CALLBACK_OK) return;
        std::string what = std::string("store ") + operation + " '" + key + "': ";
        if (result == CGLOO_STORE_CALLBACK_TIMEOUT) throw StoreTimeout(what + callbackMessage(message, "timed out"));
        throw StoreFailure(what + callbackMessage(message, "failed"));
    }

    cgloo_store_callbacks callbacks_;
};

/// Runs `body`, turning what it throws into `error`; `during` prefixes the message and picks the codes.
enum class Phase { store, device, rendezvous, collective };

template <typename Body>
bool guarded(Phase phase, cgloo_error *error, Body body) {
    clearError(error);
    const char *during = phase == Phase::store        ? "store: "
                         : phase == Phase::device     ? "device: "
                         : phase == Phase::rendezvous ? "rendezvous: "
                                                      : "all-reduce: ";
    try {
        body();
        return true;
    } catch (const StoreTimeout &e) {
        setError(error, phase == Phase::collective ? CGLOO_TIMEOUT : CGLOO_RENDEZVOUS_TIMEOUT, during + std::string(e.what()));
    } catch (const StoreFailure &e) {
        setError(error, CGLOO_STORE_FAILED, during + std::string(e.what()));
    } catch (const gloo::IoException &e) {
        std::string message = e.what();
        int32_t code;
        if (phase == Phase::device) code = CGLOO_DEVICE_FAILED;
        else if (phase == Phase::store) code = CGLOO_STORE_FAILED;
        else if (mentionsTimeout(message)) code = phase == Phase::rendezvous ? CGLOO_RENDEZVOUS_TIMEOUT : CGLOO_TIMEOUT;
        else code = CGLOO_PEER_GONE;
        setError(error, code, during + message);
    } catch (const std::exception &e) {
        std::string message = e.what();
        int32_t code = phase == Phase::device ? CGLOO_DEVICE_FAILED
                       : phase == Phase::store ? CGLOO_STORE_FAILED
                       : mentionsTimeout(message) ? (phase == Phase::rendezvous ? CGLOO_RENDEZVOUS_TIMEOUT : CGLOO_TIMEOUT)
                                                  : CGLOO_INTERNAL;
        setError(error, code, during + message);
    } catch (...) {
        setError(error, CGLOO_INTERNAL, during + std::string("unknown C++ exception"));
    }
    return false;
}

void ignoreSigpipeIfDefault() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction current;
        if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
            struct sigaction ignore;
            std::memset(&ignore, 0, sizeof(ignore));
            ignore.sa_handler = SIG_IGN;
            sigemptyset(&ignore.sa_mask);
            sigaction(SIGPIPE, &ignore, nullptr);
        }
    });
}

}  // namespace

extern "C" {

void cgloo_bytes_assign(cgloo_bytes *bytes, const void *data, size_t count) {
    const char *begin = static_cast<const char *>(data);
    bytes->data.assign(begin, begin + count);
}

cgloo_store *cgloo_store_create_file(const char *directory, cgloo_error *error) {
    if (directory == nullptr || directory[0] == '\0') {
        setError(error, CGLOO_INVALID_ARGUMENT, "store: empty directory");
        return nullptr;
    }
    cgloo_store *result = nullptr;
    guarded(Phase::store, error, [&] {
        std::string path(directory);
        if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
            throw gloo::IoException("cannot create directory " + path + ": " + std::strerror(errno));
        auto store = std::make_shared<gloo::rendezvous::FileStore>(path);
        result = new cgloo_store{store, nullptr};
    });
    return result;
}

cgloo_store *cgloo_store_create_callbacks(cgloo_store_callbacks callbacks, cgloo_error *error) {
    if (callbacks.set == nullptr || callbacks.get == nullptr || callbacks.wait == nullptr) {
        setError(error, CGLOO_INVALID_ARGUMENT, "store: set, get and wait callbacks are required");
        if (callbacks.release != nullptr) callbacks.release(callbacks.user);
        return nullptr;
    }
    cgloo_store *result = nullptr;
    guarded(Phase::store, error, [&] { result = new cgloo_store{std::make_shared<CallbackStore>(callbacks), nullptr}; });
    return result;
}

cgloo_store *cgloo_store_create_prefixed(cgloo_store *base, const char *prefix, cgloo_error *error) {
    if (base == nullptr || prefix == nullptr) {
        setError(error, CGLOO_INVALID_ARGUMENT, "store: a prefixed store needs a base store and a prefix");
        return nullptr;
    }
    cgloo_store *result = nullptr;
    guarded(Phase::store, error, [&] {
        auto keepBase = std::make_shared<cgloo_store>(*base);  // shares the base's Gloo store
        auto store = std::make_shared<gloo::rendezvous::PrefixStore>(prefix, *keepBase->store);
        result = new cgloo_store{store, keepBase};
    });
    return result;
}

void cgloo_store_destroy(cgloo_store *store) { delete store; }

cgloo_device *cgloo_device_create_tcp(const char *hostname, const char *interface_name, cgloo_error *error) {
    bool byHost = hostname != nullptr && hostname[0] != '\0';
    bool byInterface = interface_name != nullptr && interface_name[0] != '\0';
    if (!byHost && !byInterface) {
        setError(error, CGLOO_INVALID_ARGUMENT, "device: give a hostname or an interface to bind");
        return nullptr;
    }
    ignoreSigpipeIfDefault();
    cgloo_device *result = nullptr;
    guarded(Phase::device, error, [&] {
        gloo::transport::tcp::attr attr;
        if (byHost) attr.hostname = hostname;
        else attr.iface = interface_name;
        result = new cgloo_device{gloo::transport::tcp::CreateDevice(attr)};
    });
    return result;
}

size_t cgloo_device_describe(const cgloo_device *device, char *buffer, size_t capacity) {
    std::string text;
    try {
        text = device->device->str();
    } catch (...) {
        text = "tcp device";
    }
    if (capacity > 0) {
        size_t count = std::min(text.size(), capacity - 1);
        std::memcpy(buffer, text.data(), count);
        buffer[count] = '\0';
    }
    return text.size();
}

void cgloo_device_destroy(cgloo_device *device) { delete device; }

cgloo_context *cgloo_context_connect(int32_t rank, int32_t size, cgloo_store *store, cgloo_device *device,
                                     int64_t timeout_ms, cgloo_error *error) {
    if (store == nullptr || device == nullptr || size < 1 || rank < 0 || rank >= size || timeout_ms <= 0) {
        setError(error, CGLOO_INVALID_ARGUMENT,
                 "rendezvous: need 0 <= rank < size, a store, a device and a positive timeout (rank " +
                     std::to_string(rank) + ", size " + std::to_string(size) + ")");
        return nullptr;
    }
    cgloo_context *result = nullptr;
    guarded(Phase::rendezvous, error, [&] {
        auto context = std::make_shared<gloo::rendezvous::Context>(rank, size);
        context->setTimeout(std::chrono::milliseconds(timeout_ms));
        context->connectFullMesh(*store->store, device->device);
        result = new cgloo_context{context};
    });
    return result;
}

int32_t cgloo_allreduce_sum_float(cgloo_context *context, float *buffer, size_t count, int64_t timeout_ms,
                                  cgloo_error *error) {
    if (context == nullptr || (buffer == nullptr && count > 0)) {
        setError(error, CGLOO_INVALID_ARGUMENT, "all-reduce: no context or no buffer");
        return CGLOO_INVALID_ARGUMENT;
    }
    if (count == 0 || context->context->size == 1) {
        clearError(error);
        return CGLOO_OK;
    }
    bool ok = guarded(Phase::collective, error, [&] {
        std::shared_ptr<gloo::Context> base = context->context;
        gloo::AllreduceOptions options(base);
        options.setAlgorithm(gloo::AllreduceOptions::Algorithm::RING);
        options.setOutput(buffer, count);
        options.setReduceFunction(
            static_cast<void (*)(void *, const void *, const void *, size_t)>(&gloo::sum<float>));
        options.setTag(0);  // collectives run one at a time on a context
        if (timeout_ms > 0) options.setTimeout(std::chrono::milliseconds(timeout_ms));
        gloo::allreduce(options);
    });
    return ok ? CGLOO_OK : (error != nullptr ? error->code : CGLOO_INTERNAL);
}

void cgloo_divide_float(float *buffer, size_t count, float divisor) {
    for (size_t i = 0; i < count; i++) buffer[i] /= divisor;
}

void cgloo_context_destroy(cgloo_context *context) { delete context; }

}  // extern "C"
