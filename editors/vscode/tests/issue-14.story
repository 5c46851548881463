# SYNTAX TEST "source.story" "the gaps issue 14 found: transition durations, cameo paths, email addresses"
title: Gaps
model: sora-2-pro
size: 1280x720

cameo mara: "refs/mara.mp4"
# <----- storage.type.declaration.story
#     ^^^^ entity.name.type.story
#         ^ punctuation.separator.key-value.story
#           ^^^^^^^^^^^^^^^ string.quoted.double.story
    look: barista, writes to me@example.com about @mara's order
#                              ^^^^^^^^ - variable.other.name.story
#                                                 ^^^^^ variable.other.name.story
#                                                      ^^ - variable.other.name.story

scene "Opening":
    shot wide 4s:
        action: @mara waves at @@joe and @mara-
#               ^^^^^ variable.other.name.story
#                              ^^^^^ - variable.other.name.story
#                                        ^^^^^ variable.other.name.story
#                                             ^ - variable.other.name.story

    cut crossfade 0.5s
#   ^^^ keyword.control.transition.story
#       ^^^^^^^^^ keyword.control.transition.story
#                 ^^^^ constant.numeric.duration.story

    shot 4s:
        action: she turns.

    cut fade 250ms  # a short fade
#            ^^^^^ constant.numeric.duration.story
#                   ^ comment.line.number-sign.story punctuation.definition.comment.story
#                     ^^^^^^^^^^^^ comment.line.number-sign.story

    shot 4s:
        action: she leaves.

    cut dip 1:02.5
#           ^^^^^^ constant.numeric.duration.story

    shot 4s:
        action: the door closes.

    crossfade 1s
#   ^^^^^^^^^ keyword.control.transition.story
#             ^^ constant.numeric.duration.story

    shot 4s:
        action: the sign flips.
