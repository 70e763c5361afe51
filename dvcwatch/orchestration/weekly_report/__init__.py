"""`dvcwatch report`: the leaders' weekly page (HTML, Vietnamese and English, prints to A4) and its JSON,
computed from the history store (`figures`), drawn as inline SVG (`charts`), written by `render`."""
