#include "call_site_symbolizer.hpp"

#include <algorithm>

namespace cowtrace::collector {

namespace {
const Mapping* covering(const std::vector<Mapping>& maps, uint64_t ip) {
    for (const auto& m : maps) {
        if (ip >= m.start && ip < m.end && m.executable) return &m;
    }
    return nullptr;
}
}  // namespace

void CallSiteSymbolizer::image_started(pid_t pid, uint64_t t_ns) {
    std::vector<Image>& images = images_[pid];
    if (!images.empty() && images.back().start_ns > t_ns) return;  // an older image's news
    Image image;
    image.start_ns = t_ns;
    read_maps(pid, image.mappings);
    images.push_back(std::move(image));
    if (images.size() > 2) images.erase(images.begin());
}

void CallSiteSymbolizer::image_copied(pid_t child, pid_t parent, uint64_t t_ns) {
    auto it = images_.find(parent);
    const Image* at_fork = nullptr;
    if (it != images_.end()) {
        for (const Image& image : it->second) {
            if (image.start_ns <= t_ns) at_fork = &image;  // oldest first: the last that began
        }
    }
    if (at_fork == nullptr) {
        image_started(child, t_ns);
        return;
    }
    Image image;
    image.start_ns = t_ns;
    image.mappings = at_fork->mappings;
    std::vector<Image>& images = images_[child];
    if (!images.empty() && images.back().start_ns > t_ns) return;  // an older image's news
    images.push_back(std::move(image));
    if (images.size() > 2) images.erase(images.begin());
}

void CallSiteSymbolizer::note(pid_t pid, const std::vector<uint64_t>& frames, uint64_t sent_ns) {
    std::vector<Image>& images = images_[pid];
    if (images.empty()) images.push_back(Image{});  // not announced: what runs now
    auto image = std::find_if(images.rbegin(), images.rend(),
                              [sent_ns](const Image& i) { return i.start_ns <= sent_ns; });
    if (image == images.rend()) return;  // sent by an image older than those we know
    bool current = image == images.rbegin();
    for (uint64_t ip : frames) {
        if (frames_.count({pid, ip})) continue;
        // A return address points after the call: look up the call itself.
        uint64_t at = ip > 0 ? ip - 1 : ip;
        const Mapping* m = covering(image->mappings, at);
        if (m == nullptr && current) {
            read_maps(pid, image->mappings);
            m = covering(image->mappings, at);
        }
        Located loc;
        if (m != nullptr && !m->path.empty()) {
            loc.path = m->path;
            loc.file_offset = ip - m->start + m->offset;  // the return address's own
        }
        frames_[{pid, ip}] = loc;
    }
}

void CallSiteSymbolizer::process_gone(pid_t pid) {
    images_.erase(pid);
}

std::string CallSiteSymbolizer::label(const SourceFrame& frame, uint64_t file_offset) {
    if (!frame.function.empty() && frame.file.empty())
        return frame.function + " (" + frame.module + ")";
    return SourceSymbolizer::describe(frame, file_offset);
}

std::vector<CallSiteSymbolizer::Resolved> CallSiteSymbolizer::resolve() {
    std::vector<Resolved> out;
    for (const auto& [key, loc] : frames_) {
        if (loc.path.empty()) continue;
        Resolved r;
        r.pid = key.first;
        r.address = key.second;
        for (const SourceFrame& f : source_.frames_at(loc.path, loc.file_offset, true))
            r.frames.push_back(label(f, loc.file_offset));
        out.push_back(std::move(r));
    }
    frames_.clear();  // written out: a collector that runs for weeks keeps none of them
    return out;
}

}  // namespace cowtrace::collector
