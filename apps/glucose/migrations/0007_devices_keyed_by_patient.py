"""Key devices, their schedules and their settings history by patient and device_key.

The schedules and settings versions pointed at a device's surrogate id; they now carry the
patient and the device_key and point at the device by that key. New tables are built, filled
from the old ones and renamed into place (in both directions), since Django migrates no table
to a composite primary key and a ForeignKey cannot point at one.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DEVICE_COLUMNS = (
    "patient_id",
    "device_key",
    "transmitter_id",
    "transmitter_generation",
    "transmitter_generation_variant",
    "display_device",
    "display_app",
    "last_upload_date",
    "first_seen_at",
    "last_seen_at",
)
SCHEDULE_COLUMNS = (
    "name",
    "is_enabled",
    "is_default",
    "start_time",
    "end_time",
    "days_of_week",
    "is_active",
    "override",
)
VERSION_COLUMNS = (
    "schedule_name",
    "alert_name",
    "value",
    "unit",
    "snooze",
    "enabled",
    "delay",
    "secondary_trigger_condition",
    "sound_theme",
    "sound_output_mode",
    "system_time",
    "display_delta_seconds",
    "content_hash",
    "valid_from",
    "observed_at",
)


def _columns(names, prefix="") -> str:
    return ", ".join(f'{prefix}"{name}"' for name in names)


# Plain INSERT ... SELECT (the same on SQLite and PostgreSQL): the ORM would stamp the auto_now
# times anew, and these rows must keep when they were first seen and observed.
def to_keyed(apps, schema_editor):
    execute = schema_editor.execute
    execute(
        f"INSERT INTO glucose_keyeddevice ({_columns(DEVICE_COLUMNS)}) "
        f"SELECT {_columns(DEVICE_COLUMNS)} FROM glucose_device"
    )
    for old, new, columns in (
        ("glucose_alertschedule", "glucose_keyedalertschedule", SCHEDULE_COLUMNS),
        ("glucose_alertsettingversion", "glucose_keyedalertsettingversion", VERSION_COLUMNS),
    ):
        execute(
            f'INSERT INTO {new} ("patient_id", "device_key", {_columns(columns)}) '
            f'SELECT d."patient_id", d."device_key", {_columns(columns, "o.")} '
            f'FROM {old} o JOIN glucose_device d ON d."id" = o."device_id"'
        )


def to_surrogate(apps, schema_editor):
    execute = schema_editor.execute
    execute(
        f"INSERT INTO glucose_device ({_columns(DEVICE_COLUMNS)}) "
        f'SELECT {_columns(DEVICE_COLUMNS)} FROM glucose_keyeddevice ORDER BY "first_seen_at"'
    )
    for old, new, columns, order in (
        ("glucose_alertschedule", "glucose_keyedalertschedule", SCHEDULE_COLUMNS, "name"),
        ("glucose_alertsettingversion", "glucose_keyedalertsettingversion", VERSION_COLUMNS, "observed_at"),
    ):
        execute(
            f'INSERT INTO {old} ("device_id", {_columns(columns)}) '
            f'SELECT d."id", {_columns(columns, "n.")} FROM {new} n JOIN glucose_device d '
            f'ON d."patient_id" = n."patient_id" AND d."device_key" = n."device_key" ORDER BY n."{order}"'
        )


RENAMED = ("device", "alertschedule", "alertsettingversion")


def _rename_keys(schema_editor, old_prefix: str, new_prefix: str):
    # The keys PostgreSQL named after the tables as they were built; named after their tables.
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in RENAMED:
        schema_editor.execute(  # runs after the renames forwards, before them backwards
            f'ALTER TABLE "glucose_{name}" RENAME CONSTRAINT "glucose_{old_prefix}{name}_pkey" TO "glucose_{new_prefix}{name}_pkey"'
        )


def _patient():
    return models.ForeignKey(
        db_index=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name="+",
        to=settings.AUTH_USER_MODEL,
    )


def _device(related_name):
    return models.ForeignObject(
        from_fields=("patient", "device_key"),
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to="glucose.keyeddevice",
        to_fields=("patient", "device_key"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("glucose", "0006_records_keyed_by_patient"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="alertsettingversion", name="alert_setting_history"),
        migrations.CreateModel(
            name="KeyedDevice",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "patient", "device_key", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "device_key",
                    models.CharField(
                        help_text="transmitterId, or generation/device/app when it is empty", max_length=128
                    ),
                ),
                ("transmitter_id", models.CharField(blank=True, max_length=64)),
                ("transmitter_generation", models.CharField(blank=True, max_length=32)),
                ("transmitter_generation_variant", models.CharField(blank=True, max_length=32)),
                ("display_device", models.CharField(blank=True, max_length=32)),
                ("display_app", models.CharField(blank=True, max_length=32)),
                ("last_upload_date", models.DateTimeField(null=True)),
                ("first_seen_at", models.DateTimeField(auto_now_add=True)),
                ("last_seen_at", models.DateTimeField(auto_now=True)),
                ("patient", _patient()),
            ],
        ),
        migrations.CreateModel(
            name="KeyedAlertSchedule",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "patient",
                        "device_key",
                        "name",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("patient", _patient()),
                ("device_key", models.CharField(max_length=128)),
                ("name", models.CharField(blank=True, max_length=64)),
                ("is_enabled", models.BooleanField()),
                ("is_default", models.BooleanField()),
                ("start_time", models.CharField(max_length=16)),
                ("end_time", models.CharField(max_length=16)),
                ("days_of_week", models.JSONField(default=list)),
                ("is_active", models.BooleanField(null=True)),
                ("override", models.JSONField(blank=True, null=True)),
                ("device", _device("schedules")),
            ],
        ),
        migrations.CreateModel(
            name="KeyedAlertSettingVersion",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "patient",
                        "device_key",
                        "schedule_name",
                        "alert_name",
                        "content_hash",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("patient", _patient()),
                ("device_key", models.CharField(max_length=128)),
                ("schedule_name", models.CharField(blank=True, max_length=64)),
                ("alert_name", models.CharField(max_length=32)),
                ("value", models.FloatField(blank=True, null=True)),
                ("unit", models.CharField(blank=True, max_length=16)),
                ("snooze", models.IntegerField(blank=True, null=True)),
                ("enabled", models.BooleanField()),
                ("delay", models.IntegerField(blank=True, null=True)),
                ("secondary_trigger_condition", models.IntegerField(blank=True, null=True)),
                ("sound_theme", models.CharField(blank=True, max_length=16)),
                ("sound_output_mode", models.CharField(blank=True, max_length=16)),
                ("system_time", models.DateTimeField(help_text="when the user last adjusted it", null=True)),
                ("display_delta_seconds", models.IntegerField(blank=True, null=True)),
                ("content_hash", models.CharField(max_length=64)),
                ("valid_from", models.DateTimeField(help_text="adjustment time, or first seen when unknown")),
                ("observed_at", models.DateTimeField(auto_now_add=True)),
                ("device", _device("setting_versions")),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["patient", "device_key", "alert_name", "valid_from"],
                        name="alert_setting_history",
                    )
                ],
            },
        ),
        migrations.RunPython(to_keyed, to_surrogate),
        migrations.DeleteModel(name="AlertSettingVersion"),
        migrations.DeleteModel(name="AlertSchedule"),
        migrations.DeleteModel(name="Device"),
        migrations.RenameModel(old_name="KeyedDevice", new_name="Device"),
        migrations.RenameModel(old_name="KeyedAlertSchedule", new_name="AlertSchedule"),
        migrations.RenameModel(old_name="KeyedAlertSettingVersion", new_name="AlertSettingVersion"),
        migrations.RunPython(
            lambda apps, schema_editor: _rename_keys(schema_editor, "keyed", ""),
            lambda apps, schema_editor: _rename_keys(schema_editor, "", "keyed"),
        ),
    ]
