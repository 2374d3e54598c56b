"""Photo evidence rows: the sanitised photo of an activity, its fingerprints and its decision.

Only the sanitised JPEG and thumbnail are stored (under content keys in a
:class:`~backend.photos.storage.PhotoStore`); the original upload never is. Location is
kept as a yes/no (``had_location``), never as coordinates. Perceptual hashes are unsigned
64-bit values stored as signed BIGINTs (:func:`backend.photos.hashing.to_signed64`);
:class:`PhotoBandKey` indexes their 16-bit bands so a near-duplicate search across the whole
programme fetches a few candidates instead of scanning every photo.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class PhotoStatus(StrEnum):
    UPLOADED = "uploaded"            # stored, waiting for the verify job
    VERIFYING = "verifying"          # the verify job is working on it
    AUTO_ACCEPTED = "auto_accepted"  # the rules accepted it; points awarded
    AUTO_REJECTED = "auto_rejected"  # clearly invalid; the uploader sees the reason
    NEEDS_REVIEW = "needs_review"    # waits for a teacher or guardian
    APPROVED = "approved"            # a reviewer accepted it; points awarded
    REJECTED = "rejected"            # a reviewer refused it


DECIDED = frozenset({PhotoStatus.AUTO_ACCEPTED, PhotoStatus.AUTO_REJECTED, PhotoStatus.APPROVED,
                     PhotoStatus.REJECTED})


class Photo(Model):
    """One sanitised evidence photo of one activity."""

    id = fields.IntField(primary_key=True)
    activity = fields.ForeignKeyField("pvpp.Activity", related_name="photos", on_delete=fields.CASCADE)
    uploader = fields.ForeignKeyField("pvpp.User", related_name="photos", on_delete=fields.CASCADE)
    store_key = fields.CharField(max_length=255)
    thumb_key = fields.CharField(max_length=255)
    width = fields.IntField()
    height = fields.IntField()
    bytes = fields.IntField()
    thumb_bytes = fields.IntField()
    source_format = fields.CharField(max_length=8)
    source_bytes = fields.IntField()
    sha256 = fields.CharField(max_length=64, description="of the stored (sanitised) JPEG")
    original_sha256 = fields.CharField(max_length=64, description="of the uploaded bytes (never stored)")
    phash = fields.BigIntField(description="pHash of the whole thumbnail, signed 64-bit")
    dhash = fields.BigIntField(description="dHash of the whole thumbnail, signed 64-bit")
    crop_hashes = fields.JSONField(description="[[phash, dhash], ...] signed, one pair per hashing crop")
    captured_at = fields.DatetimeField(null=True)
    captured_at_source = fields.CharField(max_length=20, null=True)  # "local:digitized" when the camera wrote no offset
    had_location = fields.BooleanField(default=False)
    status = fields.CharEnumField(PhotoStatus, max_length=16, default=PhotoStatus.UPLOADED)
    status_reason = fields.CharField(max_length=200, default="")
    attempts = fields.SmallIntField(default=0)
    model_category = fields.CharField(max_length=24, null=True)
    model_confidence = fields.FloatField(null=True)
    model_version = fields.CharField(max_length=64, null=True)
    warnings = fields.JSONField(default=list, description="[{name, score, detail}] shown to reviewers")
    duplicate_of = fields.ForeignKeyField("pvpp.Photo", related_name="duplicates", null=True,
                                          on_delete=fields.SET_NULL)
    duplicate_distance = fields.SmallIntField(null=True)
    bill_reading = fields.JSONField(null=True, description="OCR proposal and the confirmation by the uploader")
    reviewer = fields.ForeignKeyField("pvpp.User", related_name="reviewed_photos", null=True,
                                      on_delete=fields.SET_NULL)
    review_category = fields.CharField(max_length=24, null=True)
    reviewed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    verified_at = fields.DatetimeField(null=True)

    class Meta:
        table = "photo"
        indexes = (Index(fields=("activity_id",)), Index(fields=("original_sha256",)), Index(fields=("sha256",)),
                   Index(fields=("status", "id")), Index(fields=("uploader_id", "id")))


class PhotoBandKey(Model):
    """One (band key, photo) pair of :func:`backend.photos.hashing.band_keys`."""

    id = fields.BigIntField(primary_key=True)
    key = fields.IntField()
    photo = fields.ForeignKeyField("pvpp.Photo", related_name="band_keys", on_delete=fields.CASCADE)

    class Meta:
        table = "photo_band_key"
        unique_together = (("key", "photo"),)


class PhotoTrainingConsent(Model):
    """Consent that reviewed photos of a person may train the classifier (off unless given).

    For a student under the consent age a linked guardian must agree as well.
    """

    id = fields.IntField(primary_key=True)
    user = fields.OneToOneField("pvpp.User", related_name="photo_training_consent", on_delete=fields.CASCADE)
    given_at = fields.DatetimeField(null=True)
    guardian_given_at = fields.DatetimeField(null=True)
    guardian = fields.ForeignKeyField("pvpp.User", related_name="photo_training_consents_given", null=True,
                                      on_delete=fields.SET_NULL)
    changed_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "photo_training_consent"
