# SYNTAX TEST "source.story" "every construct of the .story language gets its scope"
# <- comment.line.number-sign.story punctuation.definition.comment.story
title: Every Construct  # a note
# <----- support.type.property-name.story
#    ^ punctuation.separator.key-value.story
#      ^^^^^^^^^^^^^^^ - comment
#                       ^^^^^^^^ comment.line.number-sign.story
model: sora-2-pro
size: 1280x720

character joe:
# <--------- storage.type.declaration.story
#         ^^^ entity.name.type.story
    look: take#2 of a "quoted # not a comment" x#  y
#             ^^ - comment
#                     ^^^^^^^^^^^^^^^^^^^^^^^^ string.quoted.double.story - comment
#                                                ^^^^ - comment

preset storm:
# <------ storage.type.declaration.story
#      ^^^^^ entity.name.type.story
    light: dark overcast

location cafe:
    look: a corner cafe

scene "Opening" at cafe:
# <----- keyword.control.scene.story
#     ^^^^^^^^^ string.quoted.double.story
#               ^^ keyword.other.at.story
#                  ^^^^ entity.name.type.location.story
    mood: calm
#   ^^^^ support.type.property-name.story
    shot close-up 4s with storm seed 7 takes 2 from "refs/fan.png":# right after the colon
#   ^^^^ keyword.control.shot.story
#        ^^^^^^^^ entity.name.function.label.story
#                 ^^ constant.numeric.duration.story
#                    ^^^^ keyword.other.with.story
#                         ^^^^^ entity.name.type.preset.story
#                               ^^^^ keyword.other.option.story
#                                    ^ constant.numeric.integer.story
#                                      ^^^^^ keyword.other.option.story
#                                            ^ constant.numeric.integer.story
#                                              ^^^^ keyword.other.option.story
#                                                   ^^^^^^^^^^^^^^ string.quoted.double.story
#                                                                  ^ comment.line.number-sign.story
        action: @joe hands "@mara's cup" over.
#       ^^^^^^ support.type.property-name.story
#               ^^^^ variable.other.name.story
#                          ^ string.quoted.double.story - variable.other.name.story
#                           ^^^^^ string.quoted.double.story variable.other.name.story
#                                ^^^^^^^ string.quoted.double.story - variable.other.name.story
        @joe (quietly, to @mara): "Thanks, @mara."  # dialogue
#       ^^^^ variable.other.name.speaker.story
#            ^^^^^^^^^^^^^^^^^^^ markup.italic.delivery.story
#                               ^ punctuation.separator.key-value.story
#                                 ^^^^^^^^ string.quoted.double.story - variable.other.name.story
#                                          ^^^^^ string.quoted.double.story variable.other.name.story
#                                                   ^^^^^^^^^^ comment.line.number-sign.story

    shot 1:30:
#        ^^^^ constant.numeric.duration.story
        action: a long take, 4s of it still.
#                            ^^ - constant.numeric.duration.story

    fade 2s
# <~~~~---- keyword.control.transition.story
#        ^^ constant.numeric.duration.story
