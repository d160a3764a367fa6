"""A module no setting declares: importing it leaves a marker, which a hostile payload
naming ``taskapp.evil.anything`` must never cause."""

import os

if os.environ.get("AJ_EVIL_MARKER"):
    with open(os.environ["AJ_EVIL_MARKER"], "w") as marker:
        marker.write("imported")
