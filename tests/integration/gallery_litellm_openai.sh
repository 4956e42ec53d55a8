#!/usr/bin/env bash
# The example gallery (demo_examples.sh) through sora-sim --profile litellm-openai: every example
# ends as examples/README.md says, each prompt created once, with valid MP4s and real or
# locally derived thumbnails and spritesheets (check_set: magic bytes and ffprobe).
GALLERY_PROFILE=litellm-openai REMIX_OUTCOME="done" exec bash "$(dirname "$0")/demo_examples.sh"
