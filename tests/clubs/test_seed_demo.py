import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_every_demo_person_is_shown_by_their_name():
    # A display name equal to the email's local part is never shown (it would give the
    # address away): the demo's people need names others can see.
    call_command("seed_demo", verbosity=0)

    hidden = [u.email for u in User.objects.all() if not u.has_chosen_name]

    assert hidden == []
