from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower

from accounts.timezones import validate_time_zone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


def squash_name(name: str | None) -> str:
    """A display name as shown: trimmed, runs of spaces made one."""
    return " ".join((name or "").split())


def is_local_part(name: str, email: str) -> bool:
    """`name` is the start of `email` ("bob.1201" for bob.1201@example.com): shown to
    others, it would give the address away."""
    return bool(email) and name.casefold() == email.split("@", 1)[0].casefold()


class User(AbstractUser):
    """A person. Signs in with their email; shown to others by display name only."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(
        max_length=80, blank=True, help_text="How other members see you. Your email stays private."
    )
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Session times are shown in this time zone.",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name everyone is shown, on pages, feeds, emails and exports.

        Never one made from the email: accounts from before sign-up asked for a name have
        their address's local part (or nothing) as display name, and others see
        "Member #12" for them instead until they choose one.
        """
        if self.has_chosen_name:
            return squash_name(self.display_name)
        return f"Member #{self.pk}" if self.pk else "A member"

    @property
    def has_chosen_name(self) -> bool:
        own = squash_name(self.display_name)
        return bool(own) and not is_local_part(own, self.email)
