"""A stored run link is a RunLink (it was RunRecord; "run" alone is a live run): the table
is renamed, no row changes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("playground", "0001_scenarios_and_runs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel("RunRecord", "RunLink"),
        migrations.AlterField(
            model_name="runlink", name="owner",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="run_links", to=settings.AUTH_USER_MODEL)),
        migrations.AlterField(
            model_name="runlink", name="scenario",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="run_links", to="playground.scenario")),
    ]
