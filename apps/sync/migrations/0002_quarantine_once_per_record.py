"""One quarantine row per record and reason (dedupe_key), not per distinct payload."""

from django.db import migrations, models


def keys_from_payload_hashes(apps, schema_editor):
    # Existing rows were unique per payload: their payload hash keeps them unique.
    QuarantinedRecord = apps.get_model("sync", "QuarantinedRecord")
    QuarantinedRecord.objects.update(dedupe_key=models.F("raw_hash"))


class Migration(migrations.Migration):
    dependencies = [("sync", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="quarantinedrecord",
            name="dedupe_key",
            field=models.CharField(default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="quarantinedrecord",
            name="raw_hash",
            field=models.CharField(help_text="sha256 of the raw payload", max_length=64),
        ),
        migrations.RunPython(keys_from_payload_hashes, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="quarantinedrecord", name="quarantine_unique_payload"),
        migrations.AddConstraint(
            model_name="quarantinedrecord",
            constraint=models.UniqueConstraint(
                fields=("patient", "record_type", "dedupe_key"), name="quarantine_unique_entry"
            ),
        ),
    ]
