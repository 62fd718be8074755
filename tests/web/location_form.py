"""A field form of the kind health and facility surveys bring: metadata recorded at submission,
the centre's location (a geopoint) and a cascading select (a county filtered by its state)."""

from __future__ import annotations

LOCATION_FORM = """
| survey |
|        | type                 | name    | label::en                 | required | choice_filter   |
|        | start                | started |                           |          |                 |
|        | end                  | ended   |                           |          |                 |
|        | today                | day     |                           |          |                 |
|        | deviceid             | device  |                           |          |                 |
|        | username             | user    |                           |          |                 |
|        | geopoint             | site    | Where is the centre?      | yes      |                 |
|        | select_one states    | state   | State                     | yes      |                 |
|        | select_one counties  | county  | County                    | yes      | state = ${state} |
| choices |
|         | list_name | name   | label::en    | state |
|         | states    | north  | North        |       |
|         | states    | south  | South        |       |
|         | counties  | n_lake | Lake County  | north |
|         | counties  | n_hill | Hill County  | north |
|         | counties  | s_bay  | Bay County   | south |
| settings |
|          | form_id  | version | title::en       | domain           |
|          | location | 1       | Centre location | nuclear_medicine |
"""
