#!/usr/bin/env bash
# The example gallery (demo_examples.sh) through sora-sim --profile litellm-veo: every example
# ends as examples/README.md says, each prompt created once, with valid MP4s and real or
# locally derived thumbnails and spritesheets (check_set: magic bytes and ffprobe).
# LiteLLM cannot remix Veo videos: the remix example is answered 500 and waits in
# doubt after one remix, never paid twice.
GALLERY_PROFILE=litellm-veo REMIX_OUTCOME=in_doubt exec bash "$(dirname "$0")/demo_examples.sh"
