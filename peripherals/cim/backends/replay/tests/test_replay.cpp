// Record (an [[op]]'s record = FILE, src/ops.cpp + record/) and replay (plugins/cim-replay.so), both ways.
// SPDX-License-Identifier: GPL-2.0-or-later OR MIT
#include <cmath>
#include <filesystem>

#include "../../../tests/test_util.hpp"

using namespace cimtest;

namespace {

const std::string kRef = std::string(CIM_PLUGIN_DIR) + "/cim-ref.so";
const std::string kReplay = std::string(CIM_PLUGIN_DIR) + "/cim-replay.so";

std::vector<Job> jobs() {
    std::vector<Job> j;
    j.emplace_back(CIM_DTYPE_INT8, 3, 2, std::vector<int8_t>{1, -2, 3, 4, -5, 6}, std::vector<int8_t>{7, 8, -9, 1, 0, -1});
    j.emplace_back(CIM_DTYPE_INT16, 2, 2, std::vector<int16_t>{300, -2, 3, 4}, std::vector<int16_t>{-1000, 2});
    j.emplace_back(CIM_DTYPE_FLOAT32, 2, 1, std::vector<float>{0.5f, -1.25f}, std::vector<float>{2.0f, 4.0f});
    return j;
}

std::unique_ptr<dynperiph::cim::OpTable> record_config(Scratch &s, const std::string &file) {
    std::string err;
    auto t = load(s.put("rec.toml", "[[op]]\nindex = 2\nname = \"ref\"\nbackend = \"" + kRef + "\"\nrecord = \"" + file +
                                        "\"\nparams = { latency_ns = 40, ns_per_mac = 0.5, pj_per_mac = 0.25 }\n"),
                  err);
    EXPECT_NE(t, nullptr) << err;
    return t;
}

std::unique_ptr<dynperiph::cim::OpTable> replay_config(Scratch &s, const std::string &file, std::string &err) {
    return load(s.put("replay.toml", "[[op]]\nindex = 0\nbackend = \"" + kReplay + "\"\nparams = { file = \"" + file +
                                         "\" }\n"),
                err);
}

} // namespace

TEST(CimReplay, RecordedRunsReplayIdentically) {
    Scratch s;
    std::vector<Job> rec = jobs();
    {
        auto t = record_config(s, "runs.jsonl");           // relative: next to the config
        ASSERT_NE(t, nullptr);
        for (auto &j : rec)
            ASSERT_EQ(j.run(*t->find(2)), DP_OK) << j.res.error;
    }
    const std::string text = read_file(s.dir.file("runs.jsonl"));
    EXPECT_EQ(text.rfind("{\"backend\":", 0), 0u) << text;
    EXPECT_NE(text.find("\"format\":\"dynperiph-cim-record\""), std::string::npos);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);

    std::string err;
    auto t = replay_config(s, "runs.jsonl", err);
    ASSERT_NE(t, nullptr) << err;
    std::vector<Job> again = jobs();
    for (size_t i = 0; i < again.size(); ++i) {
        ASSERT_EQ(again[i].run(*t->find(0)), DP_OK) << again[i].res.error;
        EXPECT_EQ(again[i].out, rec[i].out);
        EXPECT_EQ(again[i].out, again[i].expected());
        EXPECT_EQ(again[i].res.metrics.latency_ns, rec[i].res.metrics.latency_ns);
        EXPECT_EQ(again[i].res.metrics.energy_pj, rec[i].res.metrics.energy_pj);
        EXPECT_TRUE(std::isnan(again[i].res.metrics.area_um2) == std::isnan(rec[i].res.metrics.area_um2));
    }
    // one more than recorded
    Job extra = jobs()[0];
    EXPECT_NE(extra.run(*t->find(0)), DP_OK);
    EXPECT_NE(std::string(extra.res.error).find("request 4, but the recording holds only 3"), std::string::npos)
        << extra.res.error;
}

TEST(CimReplay, ADifferentRequestNamesTheFirstDifference) {
    Scratch s;
    {
        auto t = record_config(s, s.dir.file("runs.jsonl"));   // absolute path
        ASSERT_NE(t, nullptr);
        for (auto &j : jobs())
            ASSERT_EQ(j.run(*t->find(2)), DP_OK);
    }
    struct Case {
        int job;
        void (*change)(Job &);
        const char *want;
    } cases[] = {
        {0, [](Job &j) { j.x[4] = 5; }, "request 1 differs from the recording (line 2): inputs[4] = 5, recorded 0"},
        {0, [](Job &j) { j.w[1] = 9; }, "request 1 differs from the recording (line 2): weights[1] = 9, recorded -2"},
        {0, [](Job &j) { j.dtype = CIM_DTYPE_INT16; }, "dtype = 1, recorded 0"},
        {0, [](Job &j) { j.nvec = 1; }, "n_vectors = 1, recorded 2"},
    };
    for (const Case &c : cases) {
        std::string err;
        auto t = replay_config(s, s.dir.file("runs.jsonl"), err);
        ASSERT_NE(t, nullptr) << err;
        Job j = jobs()[c.job];
        c.change(j);
        EXPECT_NE(j.run(*t->find(0)), DP_OK);
        EXPECT_NE(std::string(j.res.error).find(c.want), std::string::npos) << j.res.error;
        EXPECT_EQ(j.res.out_count, 0u);
    }
}

TEST(CimReplay, BadRecordingsAndParamsAreOneLineConfigErrors) {
    Scratch s;
    std::string err;
    EXPECT_EQ(replay_config(s, "missing.jsonl", err), nullptr);
    EXPECT_NE(err.find("missing.jsonl: cannot open the recording"), std::string::npos) << err;
    s.put("bad.jsonl", "{\"format\":\"dynperiph-cim-record\",\"version\":1}\n{\"dtype\":0,\n");
    EXPECT_EQ(replay_config(s, "bad.jsonl", err), nullptr);
    EXPECT_NE(err.find("bad.jsonl:2: not JSON"), std::string::npos) << err;
    s.put("other.jsonl", "{\"hello\":1}\n");
    EXPECT_EQ(replay_config(s, "other.jsonl", err), nullptr);
    EXPECT_NE(err.find("other.jsonl:1: not a dynperiph-cim-record header"), std::string::npos) << err;
    EXPECT_EQ(err.find('\n'), std::string::npos);
    EXPECT_EQ(load(s.put("p.toml", "[[op]]\nindex = 0\nbackend = \"" + kReplay + "\"\nparams = { fil = \"x\" }\n"), err),
              nullptr);
    EXPECT_NE(err.find("unknown param 'fil'"), std::string::npos) << err;
    EXPECT_EQ(load(s.put("r.toml", "[[op]]\nindex = 0\nbackend = \"" + kRef + "\"\nrecord = \"/nonexistent/dir/r.jsonl\"\n"),
                   err),
              nullptr);
    EXPECT_NE(err.find("record /nonexistent/dir/r.jsonl: cannot create"), std::string::npos) << err;
    EXPECT_EQ(load(s.put("r2.toml", "[[op]]\nindex = 0\nbackend = \"" + kRef + "\"\nrecord = 3\n"), err), nullptr);
    EXPECT_NE(err.find("'record' must be a file name"), std::string::npos) << err;
}

TEST(CimReplay, RecordedFailureReplaysAsAFailure) {
    Scratch s;
    // a request the ref backend rejects: more outputs than the capacity given
    {
        auto t = record_config(s, "runs.jsonl");
        ASSERT_NE(t, nullptr);
        Job j = jobs()[0];
        cim_request req = j.request();
        cim_result res{};
        res.abi = {CIM_BACKEND_ABI_MAJOR, CIM_BACKEND_ABI_MINOR};
        std::vector<uint32_t> out(1);
        res.outputs = out.data();
        res.out_capacity = 1;
        ASSERT_NE(t->find(2)->run(req, res), DP_OK);
    }
    std::string err;
    auto t = replay_config(s, "runs.jsonl", err);
    ASSERT_NE(t, nullptr) << err;
    Job j = jobs()[0];
    EXPECT_NE(j.run(*t->find(0)), DP_OK);
    EXPECT_NE(std::string(j.res.error).size(), 0u);
}
