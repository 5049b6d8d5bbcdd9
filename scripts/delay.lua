-- delay.lua: wait a random 10-50 ms before each request (think time). The
-- thread keeps serving its other connections meanwhile.

function delay()
   return math.random(10, 50)
end
