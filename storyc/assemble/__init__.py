"""Assembly: rendered clips + the plan -> the film (MP4), its subtitles (SRT) and edit (OTIO).

    report = assemble_film(plan, clip_paths, Path("build/cafe/cafe.mp4"))
    write_srt(report.timeline, Path("build/cafe/cafe.srt"))
    write_otio(report.timeline, Path("build/cafe/cafe.otio"), plan.story.title)

Modules, in the order the data flows: `preflight` (is every clip there and whole, which can
be stream-copied), `timeline` (every clip on the film's frames), `x264` + `pieces` (re-encode
only what must be), `composite` (moviepy, when nothing can be copied cleanly), `soundtrack`
(the sound, mixed sample-exactly), `film` (the paths and the final mux), `subtitles`,
`otio_export`, `stamp` (skip an unchanged rebuild). `mp4` reads MP4 boxes in process.
"""

from storyc.assemble.film import AssemblyReport, assemble_film
from storyc.assemble.otio_export import write_otio
from storyc.assemble.progress import ProgressCallback, RichAssemblyProgress
from storyc.assemble.subtitles import write_srt

__all__ = [
    "AssemblyReport",
    "ProgressCallback",
    "RichAssemblyProgress",
    "assemble_film",
    "write_otio",
    "write_srt",
]
