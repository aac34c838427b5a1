// dynperiph SDK: Async (include/dynperiph/sdk/async.hpp).
#include "dynperiph/sdk/async.hpp"

#include <exception>

#include "dynperiph/sdk/error.hpp"
#include "dynperiph/sdk/peripheral.hpp"

namespace dynperiph {

namespace {
struct Job {
    Fn<void()> f;
    const dp_host *host;
};
} // namespace

Async::Async(const Host &host) : host_(host.raw()) {
    api_ = static_cast<const dp_async_api *>(host.capability(DP_ASYNC_CAPABILITY));
    if (!api_ || api_->abi.major != 1)
        throw Error("the host has no " DP_ASYNC_CAPABILITY " capability (QEMU's dynperiph device older than "
                    "ABI 1.1)");
}

void Async::run(void *p) {
    Job *job = static_cast<Job *>(p);
    try {
        job->f();
    } catch (const std::exception &e) {
        Host(job->host).log(DP_LOG_ERROR, "posted work failed: %s", e.what());
    } catch (...) {
        Host(job->host).log(DP_LOG_ERROR, "posted work failed: unknown exception");
    }
    delete job;
}

bool Async::post(Fn<void()> f) const {
    Job *job = new (std::nothrow) Job{static_cast<Fn<void()> &&>(f), host_};
    if (!job)
        return false;
    if (api_->post(api_->ctx, &Async::run, job) != DP_OK) {
        delete job;
        return false;
    }
    return true;
}

bool Async::irq(unsigned line, bool level) const { return api_->set_irq(api_->ctx, line, level ? 1 : 0) == DP_OK; }

} // namespace dynperiph
