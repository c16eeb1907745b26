"""Wording for the demo corpus: themes, each with many ways customers say the same thing.

Every theme has several openings, core statements, details and closings, combined at random, so no
theme is one template. ``stage`` is the customer-journey stage the theme usually belongs to;
``tone`` is its usual sentiment (-2 very negative … +2 very positive). The fictional company is
Northwind Telecom (broadband, mobile, TV).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Theme:
    key: str
    stage: str
    tone: int
    product: str
    openings: tuple[str, ...]
    cores: tuple[str, ...]
    details: tuple[str, ...]
    closings: tuple[str, ...] = ()
    agent_replies: tuple[str, ...] = field(default=())


THEMES: tuple[Theme, ...] = (
    Theme(
        "billing_double_charge",
        "support",
        -1,
        "broadband",
        ("Hi,", "Hello,", "Good morning,", "I'm writing about my latest bill.", "Not happy right now."),
        (
            "I have been charged twice for my monthly plan this month.",
            "My direct debit went out two times for the same invoice.",
            "There are two identical payments on my bank statement from you.",
            "You took the payment twice and now my account is overdrawn.",
            "The bill shows a duplicate charge of {amount} that I never agreed to.",
            "Why was I billed double for {month}?",
        ),
        (
            "It's the {amount} payment on the {day}th.",
            "I only have one line with you.",
            "This has put me into my overdraft and the bank is charging me fees.",
            "I checked the app and it also shows both payments.",
            "My account number is {account}.",
        ),
        (
            "Please refund the extra payment.",
            "Can someone sort this out today?",
            "I expect this fixed quickly.",
            "Thanks.",
        ),
        (
            "I'm sorry about the duplicate charge. I've raised a refund for {amount}; "
            "it will show in 3-5 working days.",
            "Thanks for flagging this. I can see the second payment and I've reversed it.",
            "Apologies for the billing error. The duplicate has been cancelled and a credit applied.",
        ),
    ),
    Theme(
        "refund_delay",
        "support",
        -1,
        "mobile",
        ("Hi there,", "Hello again,", "This is my third time asking.", "Still waiting..."),
        (
            "I was promised a refund weeks ago and it still hasn't arrived.",
            "Where is my refund? It has been over a month.",
            "The refund for my returned phone has not been paid back.",
            "You said the credit would be on my card within five days, it never came.",
            "I returned the handset on time and I'm still out of pocket {amount}.",
        ),
        (
            "The return was confirmed by your courier.",
            "Nobody replies to my emails about it.",
            "Every agent tells me something different.",
            "The reference I was given was {ref}.",
        ),
        ("I want my money back.", "Please tell me when it will actually be paid.", "Sort it out please."),
        (
            "I've chased the refund team and the payment of {amount} has now been released.",
            "I'm sorry for the wait. The refund was delayed by a processing error; it has been sent today.",
        ),
    ),
    Theme(
        "delivery_delay",
        "purchase",
        -1,
        "broadband",
        ("Hi,", "Hello,", "Quick question about my order.", "Getting frustrated."),
        (
            "My new router still hasn't been delivered.",
            "The order says dispatched but nothing has arrived.",
            "Tracking hasn't updated for six days.",
            "The courier claims they delivered the box but I have nothing.",
            "My SIM card was supposed to arrive on Tuesday and it's now Friday.",
        ),
        (
            "Order number {ref}.",
            "I stayed home all day waiting.",
            "My old contract ends this week.",
            "The tracking link just says 'in transit'.",
        ),
        ("When will it arrive?", "Please send a replacement.", "Can you check with the courier?"),
        (
            "I've checked with the courier; your parcel is out for delivery tomorrow.",
            "Sorry about this. I've sent a replacement by next-day delivery.",
        ),
    ),
    Theme(
        "outage",
        "support",
        -2,
        "broadband",
        ("Hi,", "URGENT:", "Hello,", "Again!!"),
        (
            "My internet has been down since yesterday morning.",
            "There's no broadband connection at all in my area.",
            "The service keeps dropping every few minutes.",
            "Total outage again, third time this month.",
            "Internet is dead and I work from home.",
        ),
        (
            "I've restarted the router several times.",
            "The lights on the hub are flashing orange.",
            "Neighbours on {street} have the same problem.",
            "I lost a whole day of work because of this.",
        ),
        ("When will it be fixed?", "I want compensation for the days without service.", "Fix it please."),
        (
            "There's a fault at the local exchange; engineers expect to restore service by 6pm.",
            "I've run a line test and booked an engineer for tomorrow morning.",
        ),
    ),
    Theme(
        "slow_speed",
        "use",
        -1,
        "broadband",
        ("Hi,", "Hello,", "Not sure if this is normal but"),
        (
            "My speeds are nowhere near what I'm paying for.",
            "I'm getting 8 Mbps on a 500 Mbps plan.",
            "Streaming buffers every evening.",
            "The wifi is really slow upstairs.",
            "Speed tests show less than a tenth of the advertised speed.",
        ),
        (
            "It's worst between 7 and 11pm.",
            "I'm connected by cable and it's still slow.",
            "Video calls freeze constantly.",
        ),
        ("Can you check the line?", "Is there anything you can do?", "Otherwise I'll look elsewhere."),
        (
            "I can see congestion on your line in the evenings; I've moved you to a new port.",
            "A wifi booster may help upstairs; I can send one free of charge.",
        ),
    ),
    Theme(
        "cancellation",
        "support",
        -2,
        "mobile",
        ("Hi,", "To whom it may concern,", "Enough is enough."),
        (
            "I want to cancel my contract.",
            "Please cancel my account at the end of the month.",
            "I'm leaving for another provider.",
            "How do I close my account without paying the exit fee?",
            "I'm switching to a competitor who offers better prices.",
        ),
        (
            "I've been a customer for {years} years.",
            "The service has got worse every year.",
            "The price went up again without any warning.",
            "Your competitor offered me half the price.",
        ),
        (
            "Please confirm the cancellation in writing.",
            "Don't try to sell me anything, just cancel it.",
            "I expect no further charges.",
        ),
        (
            "I'm sorry to see you go. Before I process this, I can offer 30% off for 12 months.",
            "Your cancellation has been scheduled for the end of the billing period.",
        ),
    ),
    Theme(
        "app_login",
        "use",
        -1,
        "mobile",
        ("Hi,", "Hello,", "Help please,"),
        (
            "I can't log in to the app.",
            "The app keeps saying my password is wrong even after resetting it.",
            "The verification code never arrives by text.",
            "The app crashes as soon as I open it.",
            "My account page in the app is blank since the update.",
        ),
        ("I'm on the latest version.", "I've reinstalled it twice.", "It worked fine last week."),
        ("Can you reset my account?", "Is there a known issue?", "What should I do?"),
        (
            "There was a problem with the latest app release; version 5.2.1 fixes it.",
            "I've unlocked your account; you can log in again now.",
        ),
    ),
    Theme(
        "roaming_charges",
        "support",
        -1,
        "mobile",
        ("Hi,", "Hello,", "I'm shocked."),
        (
            "I was charged a fortune for roaming on holiday.",
            "My bill has {amount} of roaming charges.",
            "You said roaming in Europe was included, but I got charged.",
            "I got a huge data bill after a week in Spain.",
        ),
        ("I didn't get any warning text.", "I only used maps and messages.", "The bundle was on my plan."),
        ("Please remove these charges.", "I want an explanation."),
        (
            "I've reviewed your usage and removed the roaming charges as a goodwill gesture.",
            "Roaming was capped incorrectly; I've credited the difference.",
        ),
    ),
    Theme(
        "plan_prices",
        "consideration",
        0,
        "broadband",
        ("Hi,", "Hello,", "Quick question,", "Hey,"),
        (
            "What's the price of the 900 Mbps fibre plan?",
            "Do you have any deals for new customers?",
            "How does your unlimited plan compare with the family bundle?",
            "Is there a contract-free option for broadband?",
            "Is fibre available at my postcode?",
            "Can I get TV and broadband together cheaper?",
        ),
        (
            "I'm currently with another provider.",
            "My contract ends next month.",
            "We're a family of five.",
            "I mostly stream and play online games.",
        ),
        ("Thanks in advance.", "Let me know the options.", "Cheers."),
        (
            "Our 900 Mbps plan is £45 a month; new customers get the first three months half price.",
            "Fibre is available at your address; I've sent you the current offers by email.",
        ),
    ),
    Theme(
        "new_plan_awareness",
        "awareness",
        1,
        "tv",
        ("Hi,", "Hey,", "Hello,"),
        (
            "I just saw your ad for the new sports TV package.",
            "A friend told me you now offer fibre in our town.",
            "I didn't know you did mobile as well as broadband.",
            "Saw on the news that you're launching 5G here, sounds interesting.",
        ),
        ("Looks good.", "I might be interested.", "Never heard of you before this."),
        ("Where can I read more?", "Is there a brochure?", "Thanks!"),
        (
            "Thanks for your interest! Everything about the sports package is on our website.",
            "Great to hear! 5G launches in your area next month.",
        ),
    ),
    Theme(
        "signup_payment_failure",
        "purchase",
        -1,
        "mobile",
        ("Hi,", "Hello,", "Trying to sign up,"),
        (
            "Your checkout keeps rejecting my card.",
            "I tried to order the new phone but the payment failed three times.",
            "The sign-up page errors out at the final step.",
            "I was charged but the order never went through.",
        ),
        (
            "My bank says there's no problem on their side.",
            "I tried two different browsers.",
            "It shows error code {ref}.",
        ),
        ("Can you place the order for me?", "I still want to buy it.", "Please help."),
        (
            "I've placed the order for you over the phone system; you'll get a confirmation email.",
            "There was an issue with our payment provider; please try again now.",
        ),
    ),
    Theme(
        "engineer_missed",
        "support",
        -2,
        "broadband",
        ("Hi,", "Hello,", "Absolutely furious."),
        (
            "The engineer never turned up for my installation.",
            "I took a day off work and nobody came.",
            "Second missed appointment in a row.",
            "The technician left without finishing the installation.",
        ),
        ("Nobody called to say they weren't coming.", "The appointment was 8 to 1.", "I've now lost two days of pay."),
        ("I want compensation.", "Book someone who will actually come.", "This is unacceptable."),
        (
            "I'm very sorry. I've booked a priority slot and added £30 compensation to your account.",
            "I've escalated the missed appointment to the field team manager.",
        ),
    ),
    Theme(
        "praise",
        "advocacy",
        2,
        "broadband",
        ("Hi,", "Just wanted to say", "Hello,"),
        (
            "{agent} was brilliant on the phone today.",
            "Best customer service I've had in years.",
            "I've recommended you to all my neighbours.",
            "Super fast fibre since the upgrade, love it.",
            "Five stars, the engineer was polite and quick.",
            "Been with you ten years and never had a problem.",
        ),
        ("Thanks for sorting everything so quickly.", "Really impressed.", "Keep it up."),
        ("Thank you!", "Cheers!", "Great job."),
        (
            "Thank you so much for the kind words! I'll pass them on to {agent}.",
            "That's lovely to hear, thanks for being with us!",
        ),
    ),
    # The planted rising theme: eSIM activation failures after a phone launch, mostly in the last
    # three weeks of the corpus.
    Theme(
        "esim_activation",
        "support",
        -1,
        "mobile",
        ("Hi,", "Hello,", "Help!"),
        (
            "My eSIM won't activate on the new phone.",
            "The eSIM QR code you sent says it's invalid.",
            "Since moving to eSIM I have no signal at all.",
            "The eSIM transfer failed and now I have no service.",
            "Activation of my eSIM has been pending for two days.",
        ),
        ("I've restarted the phone many times.", "The shop said to contact you.", "I can't make calls at all."),
        ("Please send a new QR code.", "How do I get my number working?", "I need this fixed today."),
        (
            "I've reissued your eSIM profile; scan the new QR code from the email.",
            "We're aware of an eSIM activation fault with the new handsets and are fixing it.",
        ),
    ),
)

THEME_BY_KEY = {t.key: t for t in THEMES}

# Intensifiers that make very negative encounters stand out.
VERY_NEGATIVE = (
    "This is the worst service I have ever had.",
    "I'm absolutely disgusted.",
    "If this isn't fixed I'm going to the ombudsman.",
    "I want to speak to a manager NOW.",
    "I've been on hold for two hours. Two hours!",
    "I'll be telling everyone to avoid you.",
    "I will be contacting my lawyer.",
)
POSITIVE_FOLLOWUPS = ("Thanks, that's sorted now!", "Brilliant, thank you.", "Perfect, appreciate the help.")
NEGATIVE_FOLLOWUPS = (
    "That doesn't help at all.",
    "This is the third time I've been told that.",
    "Still not fixed.",
    "You said that last week too.",
)
NEUTRAL_FOLLOWUPS = ("Ok, thanks.", "I'll wait then.", "Noted.", "Ok, will try that.")

AGENT_OPENERS = ("Hi {name},", "Hello {name},", "Thanks for getting in touch, {name}.", "Hi there,")
AGENT_CLOSERS = ("Kind regards,", "Best wishes,", "Thanks,")

FIRST_NAMES = (
    "Maria",
    "James",
    "Aisha",
    "Tom",
    "Priya",
    "Oliver",
    "Chen",
    "Sophie",
    "Liam",
    "Fatima",
    "Lucas",
    "Emma",
    "Noah",
    "Zara",
    "Ethan",
    "Grace",
    "José",
    "Hannah",
    "Mohammed",
    "Ella",
)
LAST_NAMES = ("Smith", "Patel", "Jones", "Nguyen", "Brown", "Kowalski", "García", "Wilson", "O'Brien", "Khan")
STREETS = ("Mill Lane", "High Street", "Oak Avenue", "Station Road", "Church Street", "Park Drive")
