"""The application's slash commands, as Discord's API takes them: one /paper command with
a subcommand per action."""

STRING, SUBCOMMAND = 3, 1

PAPER_COMMAND = {
    "name": "paper",
    "type": 1,
    "description": "Suggest papers, vote and see the next session of this channel's club",
    "dm_permission": False,
    "options": [
        {
            "type": SUBCOMMAND,
            "name": "suggest",
            "description": "Put a paper on the club's list",
            "options": [
                {
                    "type": STRING,
                    "name": "link",
                    "description": "arXiv ID (2305.18290) or a link to the paper",
                    "required": True,
                    "max_length": 500,
                },
                {
                    "type": STRING,
                    "name": "pitch",
                    "description": "Why the club should read it, in a sentence",
                    "required": True,
                    "max_length": 500,
                },
                {
                    "type": STRING,
                    "name": "title",
                    "description": "The title, for a paper Paper Club does not know yet",
                    "required": False,
                    "max_length": 300,
                },
            ],
        },
        {"type": SUBCOMMAND, "name": "poll", "description": "Show the open poll with vote buttons"},
        {"type": SUBCOMMAND, "name": "next", "description": "When and where the next session is"},
        {
            "type": SUBCOMMAND,
            "name": "link",
            "description": "Confirm this channel as the club's (organizers)",
        },
    ],
}

COMMANDS = [PAPER_COMMAND]
