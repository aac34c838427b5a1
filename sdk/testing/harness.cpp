// dynperiph host test harness (see harness.hpp).
#include "dynperiph/testing/harness.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>

namespace dynperiph::testing {

// ---------------------------------------------------------------------------------------------------
// FakeHost

FakeHost::FakeHost(uint64_t ram_base, size_t ram_size, std::string instance_name, unsigned irq_lines)
    : instance_name_(std::move(instance_name)), ram_base_(ram_base), ram_(ram_size, 0), irq_(irq_lines, 0),
      owner_(std::this_thread::get_id()) {
    host_.abi = {DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR};
    host_.ctx = this;
    host_.instance_name = instance_name_.c_str();
    host_.dma_read = &s_dma_read;
    host_.dma_write = &s_dma_write;
    host_.set_irq = &s_set_irq;
    host_.clock_ns = &s_clock_ns;
    host_.timer_new = &s_timer_new;
    host_.timer_arm = &s_timer_arm;
    host_.timer_cancel = &s_timer_cancel;
    host_.timer_free = &s_timer_free;
    host_.log = &s_log;
    host_.run_blocking = &s_run_blocking;
    host_.get_capability = &s_get_capability;
}

FakeHost::~FakeHost() = default;

void FakeHost::check_thread(const char *service) {
    if (std::this_thread::get_id() != owner_)
        violations_.push_back(std::string(service) + " called from a thread other than the device thread");
}

bool FakeHost::ram_range(uint64_t addr, size_t len) const {
    if (addr < ram_base_)
        return false;
    uint64_t off = addr - ram_base_;
    return off <= ram_.size() && len <= ram_.size() - off;
}

void FakeHost::write_ram(uint64_t addr, std::span<const uint8_t> data) {
    if (!ram_range(addr, data.size()))
        throw std::out_of_range("FakeHost::write_ram: range outside guest RAM");
    std::memcpy(ram_.data() + (addr - ram_base_), data.data(), data.size());
}

std::vector<uint8_t> FakeHost::read_ram(uint64_t addr, size_t len) const {
    if (!ram_range(addr, len))
        throw std::out_of_range("FakeHost::read_ram: range outside guest RAM");
    auto b = ram_.begin() + ptrdiff_t(addr - ram_base_);
    return std::vector<uint8_t>(b, b + ptrdiff_t(len));
}

void FakeHost::write32(uint64_t addr, uint32_t v) {
    uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
    write_ram(addr, b);
}

uint32_t FakeHost::read32(uint64_t addr) const {
    auto b = read_ram(addr, 4);
    return uint32_t(b[0]) | (uint32_t(b[1]) << 8) | (uint32_t(b[2]) << 16) | (uint32_t(b[3]) << 24);
}

int FakeHost::irq(unsigned line) const { return line < irq_.size() ? irq_[line] : 0; }

unsigned FakeHost::irq_raises(unsigned line) const {
    unsigned n = 0;
    int level = 0;
    for (const IrqEvent &e : irq_history_) {
        if (e.line != line)
            continue;
        if (e.level && !level)
            ++n;
        level = e.level;
    }
    return n;
}

FakeHost::Timer *FakeHost::find_due(uint64_t limit) {
    Timer *best = nullptr;
    for (auto &[id, t] : timers_) {
        if (!t->armed || t->deadline > limit)
            continue;
        if (!best || t->deadline < best->deadline || (t->deadline == best->deadline && t->seq < best->seq))
            best = t.get();
    }
    return best;
}

void FakeHost::advance(uint64_t ns) {
    uint64_t target = now_ + ns;
    while (Timer *t = find_due(target)) {
        if (t->deadline > now_)
            now_ = t->deadline;
        t->armed = false;
        t->cb(t->opaque); // may free or re-arm timers; t is not used afterwards
    }
    now_ = target;
}

bool FakeHost::run_next_timer() {
    auto d = next_deadline();
    if (!d)
        return false;
    advance(*d > now_ ? *d - now_ : 0);
    return true;
}

unsigned FakeHost::run_until_idle(unsigned max_steps) {
    unsigned n = 0;
    while (n < max_steps && run_next_timer())
        ++n;
    return n;
}

std::optional<uint64_t> FakeHost::next_deadline() const {
    std::optional<uint64_t> d;
    for (const auto &[id, t] : timers_)
        if (t->armed && (!d || t->deadline < *d))
            d = t->deadline;
    return d;
}

size_t FakeHost::armed_timers() const {
    size_t n = 0;
    for (const auto &[id, t] : timers_)
        n += t->armed;
    return n;
}

bool FakeHost::log_contains(const std::string &needle) const {
    for (const LogLine &l : logs_)
        if (l.text.find(needle) != std::string::npos)
            return true;
    return false;
}

bool FakeHost::log_contains(dp_log_level level, const std::string &needle) const {
    for (const LogLine &l : logs_)
        if (l.level == level && l.text.find(needle) != std::string::npos)
            return true;
    return false;
}

size_t FakeHost::log_count(dp_log_level level) const {
    size_t n = 0;
    for (const LogLine &l : logs_)
        n += l.level == level;
    return n;
}

dp_status FakeHost::s_dma_read(void *ctx, uint64_t addr, void *buf, size_t len) {
    FakeHost *h = self(ctx);
    h->check_thread("dma_read");
    if (!h->ram_range(addr, len)) {
        ++h->dma_errors_;
        return DP_ERR_RANGE;
    }
    ++h->dma_reads_;
    if (len)
        std::memcpy(buf, h->ram_.data() + (addr - h->ram_base_), len);
    return DP_OK;
}

dp_status FakeHost::s_dma_write(void *ctx, uint64_t addr, const void *buf, size_t len) {
    FakeHost *h = self(ctx);
    h->check_thread("dma_write");
    if (!h->ram_range(addr, len)) {
        ++h->dma_errors_;
        return DP_ERR_RANGE;
    }
    ++h->dma_writes_;
    if (len)
        std::memcpy(h->ram_.data() + (addr - h->ram_base_), buf, len);
    return DP_OK;
}

void FakeHost::s_set_irq(void *ctx, unsigned line, int level) {
    FakeHost *h = self(ctx);
    h->check_thread("set_irq");
    if (line >= h->irq_.size()) {
        h->violations_.push_back("set_irq on line " + std::to_string(line) + " beyond the host's lines");
        return;
    }
    if (level != 0 && level != 1)
        h->violations_.push_back("set_irq with level " + std::to_string(level) + " (must be 0 or 1)");
    h->irq_[line] = level ? 1 : 0;
    h->irq_history_.push_back({h->now_, line, level ? 1 : 0});
}

uint64_t FakeHost::s_clock_ns(void *ctx) {
    FakeHost *h = self(ctx);
    h->check_thread("clock_ns");
    return h->now_;
}

dp_timer *FakeHost::s_timer_new(void *ctx, dp_timer_cb cb, void *opaque) {
    FakeHost *h = self(ctx);
    h->check_thread("timer_new");
    auto t = std::make_unique<Timer>();
    t->cb = cb;
    t->opaque = opaque;
    dp_timer *id = reinterpret_cast<dp_timer *>(t.get());
    h->timers_.emplace(id, std::move(t));
    return id;
}

void FakeHost::s_timer_arm(void *ctx, dp_timer *t, uint64_t deadline) {
    FakeHost *h = self(ctx);
    h->check_thread("timer_arm");
    auto it = h->timers_.find(t);
    if (it == h->timers_.end()) {
        h->violations_.push_back("timer_arm on an unknown or freed timer");
        return;
    }
    it->second->armed = true;
    it->second->deadline = deadline;
    it->second->seq = ++h->seq_;
}

void FakeHost::s_timer_cancel(void *ctx, dp_timer *t) {
    FakeHost *h = self(ctx);
    h->check_thread("timer_cancel");
    auto it = h->timers_.find(t);
    if (it == h->timers_.end()) {
        h->violations_.push_back("timer_cancel on an unknown or freed timer");
        return;
    }
    it->second->armed = false;
}

void FakeHost::s_timer_free(void *ctx, dp_timer *t) {
    FakeHost *h = self(ctx);
    h->check_thread("timer_free");
    if (!h->timers_.erase(t))
        h->violations_.push_back("timer_free on an unknown or already freed timer");
}

void FakeHost::s_log(void *ctx, dp_log_level level, const char *msg) {
    FakeHost *h = self(ctx);
    h->check_thread("log");
    h->logs_.push_back({level, msg ? msg : ""});
    if (h->echo_logs)
        std::fprintf(stderr, "[plugin log %d] %s\n", int(level), msg ? msg : "");
}

dp_status FakeHost::s_run_blocking(void *ctx, dp_work_fn fn, void *opaque) {
    FakeHost *h = self(ctx);
    h->check_thread("run_blocking");
    if (h->fail_run_blocking)
        return DP_ERR_INTERNAL;
    ++h->blocking_runs_;
    // A real thread, so thread-affinity bugs show up; the owner id stays the device thread, so any
    // service called by fn is recorded as a violation.
    std::thread worker([fn, opaque] { fn(opaque); });
    worker.join();
    return DP_OK;
}

const void *FakeHost::s_get_capability(void *ctx, const char *id) {
    FakeHost *h = self(ctx);
    auto it = h->capabilities.find(id ? id : "");
    return it == h->capabilities.end() ? nullptr : it->second;
}

// ---------------------------------------------------------------------------------------------------
// Plugin

Plugin Plugin::load(const std::string &path) {
    auto fail = [&path](const std::string &why) -> Plugin { throw std::runtime_error(path + ": " + why); };
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
        return fail(std::string("cannot open plugin: ") + std::strerror(errno));
    void *h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = ::dlerror();
        return fail(std::string("not a loadable shared object: ") + (e ? e : "unknown dlopen error"));
    }
    Plugin p;
    p.path_ = path;
    p.handle_ = h;
    void *sym = ::dlsym(h, DYNPERIPH_ENTRY_SYMBOL);
    if (!sym)
        return fail("not a dynperiph plugin: no symbol " DYNPERIPH_ENTRY_SYMBOL);
    auto entry = reinterpret_cast<dp_entry_fn>(sym);
    const dp_plugin_desc *d = entry(dp_version{DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR});
    char host_v[32];
    std::snprintf(host_v, sizeof host_v, "%u.%u", DYNPERIPH_ABI_MAJOR, DYNPERIPH_ABI_MINOR);
    if (!d)
        return fail(std::string("the plugin refused host ABI ") + host_v);
    if (d->abi.major != DYNPERIPH_ABI_MAJOR || d->abi.minor > DYNPERIPH_ABI_MINOR) {
        char b[160];
        std::snprintf(b, sizeof b, "plugin ABI %u.%u is not supported by this host (ABI %s)", d->abi.major,
                      d->abi.minor, host_v);
        return fail(b);
    }
    if (!d->name || !d->create || !d->destroy || !d->reset || !d->read || !d->write)
        return fail("plugin descriptor lacks a name or a required callback");
    if (d->mmio_size == 0)
        return fail("plugin declares an MMIO size of 0");
    if (d->irq_count > 32)
        return fail("plugin declares " + std::to_string(d->irq_count) + " IRQ lines (max 32)");
    p.desc_ = d;
    return p;
}

Plugin::Plugin(Plugin &&o) noexcept : path_(std::move(o.path_)), handle_(o.handle_), desc_(o.desc_) {
    o.handle_ = nullptr;
    o.desc_ = nullptr;
}

Plugin &Plugin::operator=(Plugin &&o) noexcept {
    if (this != &o) {
        if (handle_)
            ::dlclose(handle_);
        path_ = std::move(o.path_);
        handle_ = o.handle_;
        desc_ = o.desc_;
        o.handle_ = nullptr;
        o.desc_ = nullptr;
    }
    return *this;
}

Plugin::~Plugin() {
    if (handle_)
        ::dlclose(handle_);
}

// ---------------------------------------------------------------------------------------------------
// Instance

Instance::Instance(const Plugin &plugin, FakeHost &host, const std::string &args)
    : desc_(&plugin.desc()), host_(host) {
    char err[512] = "";
    inst_ = desc_->create(host.host(), args.c_str(), err, sizeof err);
    if (!inst_)
        throw std::runtime_error(std::string(desc_->name) + ": " + (err[0] ? err : "create failed without a reason"));
}

Instance::~Instance() {
    if (inst_)
        desc_->destroy(inst_);
}

dp_status Instance::read(uint64_t offset, unsigned size, uint64_t &value) {
    return desc_->read(inst_, offset, size, &value);
}

dp_status Instance::write(uint64_t offset, unsigned size, uint64_t value) {
    return desc_->write(inst_, offset, size, value);
}

uint32_t Instance::read32(uint64_t offset) {
    uint64_t v = 0;
    dp_status st = read(offset, 4, v);
    if (st != DP_OK)
        throw std::runtime_error("read32 at offset " + std::to_string(offset) + " returned status " +
                                 std::to_string(int(st)));
    return uint32_t(v);
}

void Instance::write32(uint64_t offset, uint32_t value) {
    dp_status st = write(offset, 4, value);
    if (st != DP_OK)
        throw std::runtime_error("write32 at offset " + std::to_string(offset) + " returned status " +
                                 std::to_string(int(st)));
}

void Instance::reset() { desc_->reset(inst_); }

dp_status Instance::save(std::vector<uint8_t> &blob) {
    if (!desc_->save_state)
        return DP_ERR_UNSUPPORTED;
    size_t len = 0;
    dp_status st = desc_->save_state(inst_, nullptr, 0, &len);
    if (st != DP_OK)
        return st;
    blob.assign(len, 0);
    st = desc_->save_state(inst_, blob.data(), blob.size(), &len);
    if (st == DP_OK)
        blob.resize(len);
    return st;
}

dp_status Instance::load(uint32_t version, const std::vector<uint8_t> &blob) {
    if (!desc_->load_state)
        return DP_ERR_UNSUPPORTED;
    return desc_->load_state(inst_, version, blob.data(), blob.size());
}

std::string plugin_path(const std::string &name) {
    const char *env = std::getenv("DYNPERIPH_PLUGIN_DIR");
    std::string dir = env && *env ? env : DYNPERIPH_HARNESS_PLUGIN_DIR;
    return dir + "/" + name + ".so";
}

} // namespace dynperiph::testing
