// Fork episodes, from the collector's census records: the figures at fork, each sample, the
// regions whose figures changed, the end. The header's pid is the episode's child.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <span>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "build_context.hpp"
#include "wire/collector_records.hpp"

namespace cowtrace::model {

class EpisodeBuilder {
public:
    explicit EpisodeBuilder(BuildContext& ctx) : ctx_(ctx) {}

    void on_start(const wire::RecordHeader& h, const wire::EpisodeStart& start, uint64_t t);
    void on_sample(const wire::RecordHeader& h, const wire::EpisodeSample& sample, uint64_t t);
    void on_regions(const wire::RecordHeader& h, const wire::EpisodeRegions& regions);
    void on_end(const wire::RecordHeader& h, const wire::EpisodeEnd& end, uint64_t t);
    // Written after the episode's end: matched by child and fork time.
    void on_copy_path(const wire::RecordHeader& h, const wire::CopyPath& path);
    void on_copy_attribution(const wire::RecordHeader& h, const wire::CopyAttribution& record);
    // After all records: every fork child the library saw start but the collector never
    // measured gets a short-lived episode (it exec'd or exited before its memory could be
    // read). (An episode's child's own minor faults are its process's: the tree reads them.)
    void add_short_lived_episodes();

private:
    // An episode still open: its samples and regions grow until it ends, then go to the tree.
    struct OpenEpisode {
        size_t index = 0;  // in tree.episodes
        std::vector<CowSample> samples;
        std::vector<CowRegion> regions;
    };

    // Short-lived episodes whose parent ended before the child did (a daemon's fork) say so.
    void mark_parents_ended_first(std::span<ForkEpisode> episodes);
    OpenEpisode* open_episode_of(pid_t child);
    // Its lists into the tree's arenas, where the episode's refs point.
    void close(OpenEpisode& open);
    ForkEpisode* episode_forked_at(pid_t child, uint64_t fork_t_ns);
    // The list kept once for every episode whose regions are the same, name for name and figure
    // for figure: a shell forks its children from the same state (a bash loop's 2,650 measured
    // forks had 5 lists among them, each of 7 regions: 340 bytes a process).
    ListRef<CowRegion> shared_regions(std::span<const CowRegion> regions);
    // Likewise the attribution figures: most episodes of a loop have the same few.
    ListRef<CopyAttributionFigures> shared_attribution(CopyAttributionFigures a);

    BuildContext& ctx_;
    std::unordered_map<pid_t, OpenEpisode> open_;              // by child pid
    std::unordered_multimap<pid_t, size_t> processes_by_pid_;  // for the short-lived's parents
    std::unordered_multimap<size_t, ListRef<CowRegion>> regions_by_hash_;
    using AttributionKey = std::tuple<std::string, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                                      uint64_t, uint64_t>;
    std::map<AttributionKey, ListRef<CopyAttributionFigures>> attributions_;
};

// "exact" | "unprivileged" | "off" as written in a trace.
CensusMode census_mode_from(std::string_view name);

}  // namespace cowtrace::model
