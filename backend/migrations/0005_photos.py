from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from backend.photos.models import PhotoStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('pvpp', '0004_plug_commands')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Photo',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('activity', fields.ForeignKeyField('pvpp.Activity', source_field='activity_id', db_constraint=True, to_field='id', related_name='photos', on_delete=OnDelete.CASCADE)),
                ('uploader', fields.ForeignKeyField('pvpp.User', source_field='uploader_id', db_constraint=True, to_field='id', related_name='photos', on_delete=OnDelete.CASCADE)),
                ('store_key', fields.CharField(max_length=255)),
                ('thumb_key', fields.CharField(max_length=255)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('bytes', fields.IntField()),
                ('thumb_bytes', fields.IntField()),
                ('source_format', fields.CharField(max_length=8)),
                ('source_bytes', fields.IntField()),
                ('sha256', fields.CharField(description='of the stored (sanitised) JPEG', max_length=64)),
                ('original_sha256', fields.CharField(description='of the uploaded bytes (never stored)', max_length=64)),
                ('phash', fields.BigIntField(description='pHash of the whole thumbnail, signed 64-bit')),
                ('dhash', fields.BigIntField(description='dHash of the whole thumbnail, signed 64-bit')),
                ('crop_hashes', fields.JSONField(description='[[phash, dhash], ...] signed, one pair per hashing crop', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('captured_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('captured_at_source', fields.CharField(null=True, max_length=12)),
                ('had_location', fields.BooleanField(default=False)),
                ('status', fields.CharEnumField(default=PhotoStatus.UPLOADED, description='UPLOADED: uploaded\nVERIFYING: verifying\nAUTO_ACCEPTED: auto_accepted\nAUTO_REJECTED: auto_rejected\nNEEDS_REVIEW: needs_review\nAPPROVED: approved\nREJECTED: rejected', enum_type=PhotoStatus, max_length=16)),
                ('status_reason', fields.CharField(default='', max_length=200)),
                ('attempts', fields.SmallIntField(default=0)),
                ('model_category', fields.CharField(null=True, max_length=24)),
                ('model_confidence', fields.FloatField(null=True)),
                ('model_version', fields.CharField(null=True, max_length=64)),
                ('warnings', fields.JSONField(default=list, description='[{name, score, detail}] shown to reviewers', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('duplicate_of', fields.ForeignKeyField('pvpp.Photo', source_field='duplicate_of_id', null=True, db_constraint=True, to_field='id', related_name='duplicates', on_delete=OnDelete.SET_NULL)),
                ('duplicate_distance', fields.SmallIntField(null=True)),
                ('bill_reading', fields.JSONField(null=True, description='OCR proposal and the confirmation by the uploader', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reviewer', fields.ForeignKeyField('pvpp.User', source_field='reviewer_id', null=True, db_constraint=True, to_field='id', related_name='reviewed_photos', on_delete=OnDelete.SET_NULL)),
                ('review_category', fields.CharField(null=True, max_length=24)),
                ('reviewed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('verified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'photo', 'app': 'pvpp', 'indexes': [Index(fields=['activity_id']), Index(fields=['original_sha256']), Index(fields=['sha256']), Index(fields=['status', 'id']), Index(fields=['uploader_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One sanitised evidence photo of one activity.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PhotoBandKey',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.IntField()),
                ('photo', fields.ForeignKeyField('pvpp.Photo', source_field='photo_id', db_constraint=True, to_field='id', related_name='band_keys', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'photo_band_key', 'app': 'pvpp', 'unique_together': (('key', 'photo'),), 'pk_attr': 'id', 'table_description': 'One (band key, photo) pair of :func:`backend.photos.hashing.band_keys`.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PhotoTrainingConsent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('pvpp.User', source_field='user_id', db_constraint=True, to_field='id', related_name='photo_training_consent', on_delete=OnDelete.CASCADE)),
                ('given_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('guardian_given_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('guardian', fields.ForeignKeyField('pvpp.User', source_field='guardian_id', null=True, db_constraint=True, to_field='id', related_name='photo_training_consents_given', on_delete=OnDelete.SET_NULL)),
                ('changed_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'photo_training_consent', 'app': 'pvpp', 'pk_attr': 'id', 'table_description': 'Consent that reviewed photos of a person may train the classifier (off unless given).'},
            bases=['Model'],
        ),
    ]
